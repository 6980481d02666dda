"""Completion: a short summary and the completion reference, very large, for the officer."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk_app.ui.steps.common import button, label


@dataclass(frozen=True, slots=True)
class CompletionContent:
    programme_title: str
    reference: str
    completed_on: str  # a date already formatted for the participant's language


class CompletionScreen(QWidget):
    """Emits `done_requested` when the participant has shown the reference and is finished.

    Empty content (as at logout) shows no title, date or reference at all.
    """

    done_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._content = CompletionContent(programme_title="", reference="", completed_on="")
        self._title = label("title")
        self._summary = label()
        self._show = label()
        self._reference = label("big-number")
        self._reference.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self._record = label("hint")
        self._done = button("primary")
        self._done.clicked.connect(self.done_requested)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 40, 48, 40)
        layout.setSpacing(24)
        for widget in (self._title, self._summary, self._show, self._reference, self._record):
            widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addWidget(self._done, 0, Qt.AlignmentFlag.AlignHCenter)
        self.setFocusProxy(self._done)
        self._retranslate()

    def set_completion(self, content: CompletionContent) -> None:
        """Show the finished programme and its reference."""
        self._content = content
        self._retranslate()

    def reference_text(self) -> str:
        """The reference as shown (characters spaced out for reading aloud to an officer)."""
        return self._reference.text()

    def plain_text(self) -> str:
        """The screen's words, for read-aloud; the reference is read character by character."""
        parts = [self._title.text(), self._summary.text(), self._show.text()]
        parts += [self._reference.text(), self._record.text()]
        return "\n".join(filter(None, parts))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        c = self._content
        known = bool(c.reference)
        self._title.setText(self.tr("Well done — you have finished!"))
        self._summary.setText(
            self.tr("You completed %1 on %2.")
            .replace("%1", c.programme_title)
            .replace("%2", c.completed_on)
            if known
            else ""
        )
        self._show.setText(self.tr("Show this reference to an officer:") if known else "")
        # Spaces between characters help reading it out; the accessible name keeps it plain.
        self._reference.setText(" ".join(c.reference))
        self._reference.setAccessibleName(
            self.tr("completion reference %1").replace("%1", c.reference) if known else ""
        )
        self._record.setText(
            self.tr(
                "This is saved on the kiosk. The police get the record when the kiosk "
                "next connects."
            )
            if known
            else ""
        )
        for widget in (self._summary, self._show, self._reference, self._record):
            widget.setVisible(known)
        self._done.setText(self.tr("Finish"))
        self._done.setAccessibleName(self.tr("Finish"))
