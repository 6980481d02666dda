"""Home: the participant's programme(s), progress per module, time left, one big Continue,
and what the officer said about their reflections and letters (with a way back to rewrite)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kiosk_app.ui.steps.common import button, label, name_scroll_bars

if TYPE_CHECKING:  # the core (SQLAlchemy) is not imported before the first screen shows
    from kiosk_app.core.home import EnrolmentSummary


def _fill(template: str, *values: str) -> str:
    """Put values in for %1, %2... in one pass, so a value holding "%2" stays as written."""

    def value(found: re.Match[str]) -> str:
        index = int(found.group(1)) - 1
        return values[index] if 0 <= index < len(values) else found.group(0)

    return re.sub(r"%(\d)", value, template)


@dataclass(frozen=True, slots=True)
class ModuleProgress:
    title: str
    percent: int
    complete: bool


@dataclass(frozen=True, slots=True)
class ReviewLine:
    """An officer's verdict on one reflection or letter; a returned one asks for a rewrite."""

    step_id: str
    step_title: str
    returned: bool
    comment: str = ""


@dataclass(frozen=True, slots=True)
class ProgrammeCard:
    """One assigned programme as Home shows it."""

    enrolment_id: str
    title: str
    available: bool
    percent: int
    complete: bool
    days_left: int  # negative when overdue
    modules: tuple[ModuleProgress, ...]
    completion_reference: str | None = None
    reviews: tuple[ReviewLine, ...] = ()

    @property
    def returned(self) -> tuple[ReviewLine, ...]:
        return tuple(r for r in self.reviews if r.returned)

    @classmethod
    def from_summary(cls, summary: EnrolmentSummary, *, today: date) -> ProgrammeCard:
        return cls(
            enrolment_id=summary.enrolment_id,
            title=summary.title,
            available=summary.available,
            percent=summary.percent,
            complete=summary.complete,
            days_left=(summary.due_date - today).days,
            modules=tuple(ModuleProgress(m.title, m.percent, m.complete) for m in summary.modules),
            completion_reference=summary.completion_reference,
            reviews=tuple(
                ReviewLine(r.step_id, r.step_title, r.needs_rewriting, r.comment)
                for r in summary.reviews
            ),
        )


class _Card(QFrame):
    """One programme: title, time left, the officer's verdicts, a bar per module; texts come
    translated. Each returned piece has its own button back to that step."""

    def __init__(
        self,
        card: ProgrammeCard,
        texts: dict[str, str],
        reviews: list[tuple[ReviewLine, str, str, str]],
        rewrite: Callable[[str], None],
    ) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        title = label("title")
        title.setText(card.title)
        due = label("message" if card.days_left < 0 and not card.complete else "hint")
        due.setText(texts["due"])
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(due)
        if texts.get("note"):
            note = label()
            note.setText(texts["note"])
            layout.addWidget(note)
        for review, said, action, action_name in reviews:
            line = label("message" if review.returned else "hint")
            line.setText(said)
            layout.addWidget(line)
            if review.returned:
                again = button()
                again.setText(action)
                again.setAccessibleName(action_name)
                again.clicked.connect(lambda _=False, step=review.step_id: rewrite(step))
                layout.addWidget(again, 0, Qt.AlignmentFlag.AlignLeft)
        grid = QGridLayout()
        grid.setHorizontalSpacing(20)
        grid.setColumnStretch(0, 2)
        grid.setColumnStretch(1, 3)
        for row, module in enumerate(card.modules):
            name = label()
            name.setText(module.title)
            bar = QProgressBar()
            bar.setRange(0, 100)
            bar.setValue(module.percent)
            bar.setMinimumHeight(32)
            shown = texts["done"] if module.complete else f"{module.percent}%"
            bar.setFormat(shown)
            bar.setAccessibleName(module.title)
            bar.setAccessibleDescription(shown)
            grid.addWidget(name, row, 0)
            grid.addWidget(bar, row, 1)
        layout.addLayout(grid)


class HomeScreen(QWidget):
    """Emits `continue_requested(enrolment_id)`, `rewrite_requested(enrolment_id, step_id)`
    and `break_requested`.

    Cards show in the order given; Continue resumes the first one that is on this kiosk
    and not finished (the core's player resumes exactly where the participant stopped).
    A reflection or letter the officer returned shows their comment, with a button that
    opens that step to rewrite it.
    """

    continue_requested = Signal(str)
    rewrite_requested = Signal(str, str)
    break_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cards: list[ProgrammeCard] = []
        self._greeting = label("title")
        self._break = button()
        self._break.clicked.connect(self.break_requested)
        self._scroll = QScrollArea(self)
        self._scroll.setWidgetResizable(True)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Not a stop of its own: it scrolls to whichever control inside takes the focus.
        self._scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self._empty = label()
        self._continue = button("primary")
        self._continue.clicked.connect(self._on_continue)
        top = QHBoxLayout()
        top.addWidget(self._greeting, 1)
        top.addWidget(self._break)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 28, 40, 28)
        layout.setSpacing(16)
        layout.addLayout(top)
        layout.addWidget(self._empty)
        layout.addWidget(self._scroll, 1)
        layout.addWidget(self._continue, 0, Qt.AlignmentFlag.AlignHCenter)
        self.setFocusProxy(self._continue)
        self._rebuild()

    # -- public API ---------------------------------------------------------------------------

    def set_programmes(self, cards: list[ProgrammeCard]) -> None:
        """Show these programmes (an empty list clears the screen, e.g. at logout)."""
        self._cards = list(cards)
        self._rebuild()

    def next_enrolment_id(self) -> str | None:
        """The enrolment Continue resumes, or None when there is nothing to continue."""
        return next((c.enrolment_id for c in self._cards if c.available and not c.complete), None)

    def visible_texts(self) -> list[str]:
        """Every label and bar text shown (tests and read-aloud)."""
        texts = [w.text() for w in self.findChildren(QLabel) if w.isVisible() and w.text()]
        return texts + [b.format() for b in self.findChildren(QProgressBar) if b.isVisible()]

    def plain_text(self) -> str:
        """What Home says, for read-aloud."""
        return "\n".join(self.visible_texts())

    # -- internals ----------------------------------------------------------------------------

    def _due_text(self, card: ProgrammeCard) -> str:
        if card.complete:
            return self.tr("Finished")
        days = card.days_left
        if days == 0:
            return self.tr("Due today")
        if days > 0:
            return self.tr("%n days left", "", days)
        return self.tr("%n days past your due date. Please talk to an officer.", "", -days)

    def _note(self, card: ProgrammeCard) -> str:
        if card.complete and card.completion_reference:
            return self.tr("Your completion reference: %1").replace("%1", card.completion_reference)
        if not card.available:
            return self.tr("This programme is not on this kiosk yet. Please ask an officer.")
        return ""

    def _rebuild(self) -> None:
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setSpacing(24)
        done = self.tr("Done ✓")
        for card in self._cards:
            texts = {"due": self._due_text(card), "note": self._note(card), "done": done}
            reviews = [self._review_texts(r) for r in card.reviews]
            column.addWidget(_Card(card, texts, reviews, self._rewriter(card.enrolment_id)))
        column.addStretch(1)
        self._scroll.setWidget(holder)  # deletes the previous cards at once
        self._retranslate()

    def _review_texts(self, review: ReviewLine) -> tuple[ReviewLine, str, str, str]:
        """(the review, what it says, the button's text, the button's accessible name)."""
        title = review.step_title
        if not review.returned:
            said = self.tr("Your officer has read and accepted %1.").replace("%1", title)
            return review, said, "", ""
        said = _fill(
            self.tr("Your officer asked you to look again at %1: %2"), title, review.comment
        )
        name = self.tr("look again at %1").replace("%1", title)
        return review, said, self.tr("Look again at %1").replace("%1", title), name

    def _rewriter(self, enrolment_id: str) -> Callable[[str], None]:
        return lambda step_id: self.rewrite_requested.emit(enrolment_id, step_id)

    def _on_continue(self) -> None:
        target = self.next_enrolment_id()
        if target is not None:
            self.continue_requested.emit(target)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._rebuild()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        self._greeting.setText(self.tr("Your programme"))
        self._break.setText(self.tr("Take a break"))
        self._break.setAccessibleName(self.tr("take a break"))
        self._continue.setText(self.tr("Continue"))
        self._continue.setAccessibleName(self.tr("Continue"))
        self._continue.setEnabled(self.next_enrolment_id() is not None)
        if not self._cards:
            empty = self.tr("You have nothing to do here right now.")
        elif all(c.complete and not c.returned for c in self._cards):
            empty = self.tr("You have finished. Well done!")
        else:
            empty = ""
        self._empty.setText(empty)
        self._empty.setVisible(bool(empty))
        name_scroll_bars(self._scroll, self.tr("scroll your programmes"))
