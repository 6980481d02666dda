"""Pledge steps: action-plan items as big checkable rows, plus actions in the person's words."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QLineEdit, QScrollArea, QVBoxLayout, QWidget

from kiosk_app.ui.steps.common import (
    button,
    label,
    message_label,
    name_scroll_bars,
    show_message,
)
from kiosk_app.ui.widgets.choice import ChoiceButton

_MAX_OWN_CHARS = 200


@dataclass(frozen=True, slots=True)
class PledgeContent:
    title: str
    items: tuple[str, ...]
    min_items: int = 1
    own_words_rows: int = 2


class PledgeView(QWidget):
    """Emits `changed(items)` on every change (the autosave hook) and `submitted(items)`."""

    changed = Signal(list)
    submitted = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._content = PledgeContent(title="", items=())
        self._rows: list[ChoiceButton] = []
        self._own: list[QLineEdit] = []
        self._title = label("title")
        self._hint = label("hint")
        self._restoring = False
        self._scroll = QScrollArea(self)
        self._scroll.setWidgetResizable(True)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Not a stop of its own: it scrolls to whichever control inside takes the focus.
        self._scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self._message = message_label()
        self._save = button("primary")
        self._save.clicked.connect(lambda: self.submitted.emit(self.items()))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._title)
        layout.addWidget(self._hint)
        layout.addWidget(self._scroll, 1)
        layout.addWidget(self._message)
        layout.addWidget(self._save, 0, Qt.AlignmentFlag.AlignRight)
        self._own_label = label()
        self._retranslate()  # the rows come with the content (`set_content`)

    # -- public API ---------------------------------------------------------------------------

    def set_content(self, content: PledgeContent) -> None:
        """Show the actions to choose from, none chosen, and empty own-words rows."""
        self._content = content
        self._title.setText(content.title)
        self._title.setVisible(bool(content.title))
        self._build()
        self._retranslate()

    def set_items(self, items: list[str]) -> None:
        """Show saved choices (a draft) without emitting: listed ones checked, others typed."""
        chosen = {i.casefold() for i in items}
        listed = {r.choice_text().casefold() for r in self._rows}
        own = [i for i in items if i.casefold() not in listed]
        self._restoring = True
        try:
            for row in self._rows:
                row.setChecked(row.choice_text().casefold() in chosen)
            for edit, text in zip(self._own, [*own, *[""] * len(self._own)], strict=False):
                edit.setText(text)
        finally:
            self._restoring = False

    def items(self) -> list[str]:
        """The chosen actions, then the own-words entries that are not empty."""
        checked = [r.choice_text() for r in self._rows if r.isChecked()]
        return checked + [e.text().strip() for e in self._own if e.text().strip()]

    def set_message(self, text: str) -> None:
        """A message already translated (empty hides it)."""
        show_message(self._message, text)

    def show_result(self, *, accepted: bool, items_needed: int) -> None:
        """The core's answer to a save: "Saved." or how many more actions it needs."""
        if accepted:
            self.set_message(self.tr("Saved."))
        else:
            self.set_message(self.tr("Please add %n more different actions.", "", items_needed))

    def plain_text(self) -> str:
        """The title, what to do and the actions to choose from, for read-aloud."""
        lines = [self._title.text(), self._hint.text(), *(r.choice_text() for r in self._rows)]
        return "\n".join(filter(None, lines))

    # -- internals ----------------------------------------------------------------------------

    def _build(self) -> None:
        holder = QWidget(self._scroll.viewport())  # parent first (see QuizView._build_panels)
        column = QVBoxLayout(holder)
        column.setSpacing(12)
        # Given to the scroll area while empty: with the rows in, setWidget sized them all for
        # the area's width before it is laid out (3 ms a step); now the first layout does it.
        self._scroll.setWidget(holder)  # deletes the previous rows at once
        self._rows = []
        for text in self._content.items:
            row = ChoiceButton(text, holder)
            row.toggled.connect(self._on_change)
            self._rows.append(row)
            column.addWidget(row)
        column.addSpacing(12)
        self._own_label = label()
        column.addWidget(self._own_label)
        self._own = []
        for _ in range(self._content.own_words_rows):
            edit = QLineEdit(holder)
            edit.setMaxLength(_MAX_OWN_CHARS)
            edit.textEdited.connect(self._on_change)
            self._own.append(edit)
            column.addWidget(edit)
        column.addStretch(1)
        self.setFocusProxy([*self._rows, *self._own, self._save][0])

    def _on_change(self, *_args: object) -> None:
        if self._restoring:
            return
        self.set_message("")
        self.changed.emit(self.items())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        self._hint.setText(
            self.tr("Choose at least %n things you will do.", "", self._content.min_items)
        )
        self._own_label.setText(self.tr("Or write your own:"))
        for number, edit in enumerate(self._own, start=1):
            edit.setAccessibleName(self.tr("my own action %1").replace("%1", str(number)))
        self._save.setText(self.tr("Save my plan"))
        self._save.setAccessibleName(self.tr("save my plan"))
        name_scroll_bars(self._scroll, self.tr("scroll the actions"))
