"""Checkpoint steps: a summary the participant reads and confirms."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk_app.ui.steps.common import PackTextBrowser, button, label, name_scroll_bars


@dataclass(frozen=True, slots=True)
class CheckpointContent:
    """The checkpoint's title and summary (Markdown)."""

    title: str
    summary_markdown: str


class CheckpointView(QWidget):
    """Emits `confirmed` once; `set_confirmed(True)` shows it done (e.g. on return)."""

    confirmed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = label("title")
        self._summary = PackTextBrowser(parent=self)
        self._confirm = button("primary")
        self._confirm.clicked.connect(self._on_confirm)
        self._done = label("countdown")
        self._done.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._title)
        layout.addWidget(self._summary, 1)
        layout.addWidget(self._confirm)
        layout.addWidget(self._done)
        self.setFocusProxy(self._confirm)
        self._retranslate()

    def set_content(self, content: CheckpointContent) -> None:
        """Show the summary to confirm."""
        self._title.setText(content.title)
        self._title.setVisible(bool(content.title))
        self._summary.setMarkdown(content.summary_markdown)

    def set_confirmed(self, confirmed: bool) -> None:
        """Show the checkpoint as confirmed (no more button) or not yet."""
        self._confirm.setVisible(not confirmed)
        self._done.setVisible(confirmed)
        self.setFocusProxy(self._summary if confirmed else self._confirm)

    def is_confirmed(self) -> bool:
        return not self._done.isHidden()

    def plain_text(self) -> str:
        """The checkpoint as plain text, for read-aloud."""
        return "\n".join(filter(None, [self._title.text(), self._summary.plain_text()]))

    def _on_confirm(self) -> None:
        self.set_confirmed(True)
        self.confirmed.emit()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        self._summary.setAccessibleName(self.tr("summary"))
        name_scroll_bars(self._summary, self.tr("scroll the summary"))
        self._confirm.setText(self.tr("Yes, I confirm this"))
        self._confirm.setAccessibleName(self.tr("confirm"))
        self._done.setText(self.tr("✓ Confirmed. Thank you."))
