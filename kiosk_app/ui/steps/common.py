"""Small building blocks the step views and screens share: labels, buttons, read-only text."""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, QUrl
from PySide6.QtGui import QImage, QImageReader, QTextDocument
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QLabel,
    QPushButton,
    QTextBrowser,
    QWidget,
)

log = logging.getLogger(__name__)

ResourceLoader = Callable[[str], bytes | None]
"""Member name in the pack -> its bytes, or None when the pack has no such member."""

OBJECT_REPLACEMENT = "\ufffc"  # where a picture sits in a document's plain text
# Wider images are scaled down to fit; SVGs are drawn at the fitted size, so they stay sharp.
MAX_IMAGE_WIDTH_PX = 960


def no_resources(name: str) -> bytes | None:
    """A loader for text with no pictures."""
    return None


def label(role: str | None = None, *, wrap: bool = True) -> QLabel:
    """A label styled by its theme `role` ("title", "hint", "message"...)."""
    widget = QLabel()
    widget.setWordWrap(wrap)
    if role:
        widget.setProperty("role", role)
    return widget


def message_label() -> QLabel:
    """A hidden line for the result of an action; `show_message` fills and shows it."""
    widget = label("message")
    widget.hide()
    return widget


def show_message(widget: QLabel, text: str) -> None:
    """Put `text` (already translated) in a message label; empty hides it."""
    widget.setText(text)
    widget.setVisible(bool(text))


def button(role: str | None = None) -> QPushButton:
    """A big button that Return and Space both press once it has keyboard focus."""
    widget = QPushButton()
    widget.setAutoDefault(True)
    if role:
        widget.setProperty("role", role)
    return widget


def name_scroll_bars(area: QAbstractScrollArea, name: str) -> None:
    """Give a scroll area's bars an accessible name ("scroll the reading")."""
    for bar in (area.verticalScrollBar(), area.horizontalScrollBar()):
        bar.setAccessibleName(name)


def _image(data: bytes, max_width: int) -> QImage | None:
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    size = reader.size()
    if size.isValid() and size.width() > max_width:
        reader.setScaledSize(QSize(max_width, round(size.height() * max_width / size.width())))
    image = reader.read()
    return None if image.isNull() else image


def member_name(url: QUrl) -> str | None:
    """The pack member an image URL in a step's Markdown names, or None (not a pack path)."""
    if url.scheme() not in ("", "pack") or url.host():
        return None
    path = posixpath.normpath(url.path().lstrip("/"))
    return None if path in (".", "") or path.startswith("..") else path


class PackTextBrowser(QTextBrowser):
    """Read-only rich text whose images come only from the pack; links never open anything.

    The kiosk has no browser and must not read the disk, so every image is asked of
    `loader` by its member name (an absolute path is asked of the pack too, and fails).
    """

    def __init__(
        self, loader: ResourceLoader = no_resources, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._loader = loader
        self._missing: set[str] = set()  # asked once; layout asks again and again
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)

    def loadResource(self, kind: int, name: QUrl | str) -> Any:
        if kind != QTextDocument.ResourceType.ImageResource.value:
            return None
        member = member_name(QUrl(name))
        if member is None or member in self._missing:
            return None
        try:
            data = self._loader(member)
        except Exception as exc:  # e.g. a block that fails its check: no picture, go on
            # An exception must not reach Qt from here (PySide cannot report it and crashes).
            log.warning("image %s not loaded: %s", member, type(exc).__name__)
            data = None
        if data is None:
            self._missing.add(member)
            return None
        width = self.viewport().width() - 2 * int(self.document().documentMargin())
        return _image(data, min(MAX_IMAGE_WIDTH_PX, max(width, 320)))

    def plain_text(self) -> str:
        """The text as read aloud: pictures (U+FFFC placeholders) left out."""
        return self.toPlainText().replace(OBJECT_REPLACEMENT, "")
