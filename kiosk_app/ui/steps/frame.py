"""The chrome around every step: title, "Step 4 of 15", Back / Next, a break, read aloud, help."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QVBoxLayout, QWidget

from kiosk_app.ui.steps.common import button, label


@dataclass(frozen=True, slots=True)
class HelpContact:
    """A source of help the programme names (its pack's signposting), shown on every step."""

    name: str
    phone: str | None = None
    url: str | None = None
    hours: str | None = None

    def line(self) -> str:
        reach = ", ".join(filter(None, [self.phone, self.url]))
        hours = f" ({self.hours})" if self.hours else ""
        return f"{self.name}: {reach}{hours}" if reach else f"{self.name}{hours}"


class StepFrame(QWidget):
    """Holds one step view; the presenter sets position and whether Next is allowed."""

    next_requested = Signal()
    back_requested = Signal()
    break_requested = Signal()
    read_aloud_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._number, self._total = 1, 1
        self._contacts: tuple[HelpContact, ...] = ()
        self._title = label("title")
        self._progress = QProgressBar()
        self._progress.setTextVisible(True)
        self._progress.setMinimumHeight(32)
        self._progress.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._read_aloud = button()
        self._read_aloud.clicked.connect(self.read_aloud_requested)
        self._break = button()
        self._break.clicked.connect(self.break_requested)
        self._back = button()
        self._back.clicked.connect(self.back_requested)
        self._next = button("primary")
        self._next.clicked.connect(self.next_requested)
        self._next.setEnabled(False)
        self._help = label("hint")
        self._help.setTextFormat(Qt.TextFormat.PlainText)
        self._help.hide()
        self._body = QVBoxLayout()
        self._view: QWidget | None = None

        top = QHBoxLayout()
        top.addWidget(self._title, 1)
        top.addWidget(self._read_aloud)
        top.addWidget(self._break)
        bottom = QHBoxLayout()
        bottom.addWidget(self._back)
        bottom.addStretch(1)
        bottom.addWidget(self._next)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSpacing(16)
        layout.addLayout(top)
        layout.addWidget(self._progress)
        layout.addLayout(self._body, 1)
        layout.addWidget(self._help)
        layout.addLayout(bottom)
        self._retranslate()

    # -- public API ---------------------------------------------------------------------------

    def set_view(self, view: QWidget) -> None:
        """Show `view` as the step body; the previous one is hidden and deleted.

        Release a media view first (`MediaView.release`), so its player stops and goes
        before the view does.
        """
        old, self._view = self._view, view
        if old is view:
            return
        if old is not None:
            self._body.removeWidget(old)
            old.hide()
            old.deleteLater()  # by the event loop: a media player never blocks the GUI thread
        self._body.addWidget(view)
        view.show()
        self.setFocusProxy(view)

    def view(self) -> QWidget | None:
        """The step view now shown."""
        return self._view

    def set_title(self, title: str) -> None:
        """The heading above the step (the module's title), from the pack."""
        self._title.setText(title)

    def set_position(self, number: int, total: int) -> None:
        """Where the step sits in the programme (1-based), for the progress bar."""
        self._number, self._total = number, max(1, total)
        # QProgressBar.setValue repaints at once; the new step paints it with everything else.
        self._progress.setUpdatesEnabled(False)
        self._progress.setRange(0, self._total)
        self._progress.setValue(min(number, self._total))
        self._progress.setUpdatesEnabled(True)
        self._retranslate()

    def set_next_enabled(self, enabled: bool) -> None:
        """Whether Next is allowed: the presenter follows the core's `can_go_next()`."""
        self._next.setEnabled(enabled)

    def set_back_enabled(self, enabled: bool) -> None:
        """Whether Back is allowed (not on the first step)."""
        self._back.setEnabled(enabled)

    def set_read_aloud_available(self, available: bool) -> None:
        """Show the "Read aloud" button only when the participant turned read-aloud on."""
        self._read_aloud.setVisible(available)

    def set_help(self, contacts: Sequence[HelpContact]) -> None:
        """The programme's sources of help, shown under every step (none hides the line)."""
        self._contacts = tuple(contacts)
        self._help.setVisible(bool(self._contacts))
        self._retranslate()

    def help_text(self) -> str:
        """The help line shown under the step (empty when the programme names none)."""
        return self._help.text() if self._contacts else ""

    def position_text(self) -> str:
        """The "Step 4 of 15" text shown on the bar."""
        return self._progress.format()

    # -- internals ----------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        text = (
            self.tr("Step %1 of %2")
            .replace("%1", str(self._number))
            .replace("%2", str(self._total))
        )
        self._progress.setFormat(text)
        self._progress.setAccessibleName(self.tr("progress"))
        self._progress.setAccessibleDescription(text)
        self._read_aloud.setText(self.tr("Read aloud"))
        self._read_aloud.setAccessibleName(self.tr("read aloud"))
        self._break.setText(self.tr("Take a break"))
        self._break.setAccessibleName(self.tr("take a break"))
        self._back.setText(self.tr("← Back"))
        self._back.setAccessibleName(self.tr("back"))
        self._next.setText(self.tr("Next →"))
        self._next.setAccessibleName(self.tr("next"))
        # One short paragraph: the step above keeps the room it needs.
        contacts = " · ".join(contact.line() for contact in self._contacts)
        self._help.setText(self.tr("Need help or someone to talk to? %1").replace("%1", contacts))
