"""Reading steps: Markdown from the pack, with images read from the pack, never from disk."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk_app.ui.steps.common import (
    PackTextBrowser,
    ResourceLoader,
    label,
    name_scroll_bars,
    no_resources,
)

__all__ = ["PackTextBrowser", "ReadingContent", "ReadingView", "ResourceLoader"]


@dataclass(frozen=True, slots=True)
class ReadingContent:
    """A reading: its title (may be empty) and Markdown body (images name pack members)."""

    title: str
    markdown: str


class ReadingView(QWidget):
    """Shows one reading; read-aloud takes its text from `plain_text()`.

    `loader` returns a pack member's bytes by name (None if missing); it is the only way
    the view gets an image.
    """

    def __init__(
        self, loader: ResourceLoader = no_resources, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._title = label("title")
        self._title.hide()
        self._browser = PackTextBrowser(loader, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._title)
        layout.addWidget(self._browser, 1)
        self.setFocusProxy(self._browser)
        self._retranslate()

    def set_content(self, content: ReadingContent) -> None:
        """Show the reading; images load through the view's resource loader."""
        self._title.setText(content.title)
        self._title.setVisible(bool(content.title))
        self._browser.clear()
        self._browser.setMarkdown(content.markdown)

    def plain_text(self) -> str:
        """The reading as plain text, for read-aloud."""
        return "\n".join(filter(None, [self._title.text(), self._browser.plain_text()]))

    def document(self) -> QTextDocument:
        """The rendered document (its text and the images it loaded)."""
        return self._browser.document()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        self._browser.setAccessibleName(self.tr("reading"))
        name_scroll_bars(self._browser, self.tr("scroll the reading"))
