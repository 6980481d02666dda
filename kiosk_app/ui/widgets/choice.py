"""A big checkable button whose text wraps over lines (quiz options, pledge actions)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from kiosk_app.ui.theme import MIN_TOUCH_TARGET_PX

# The app stylesheet colours a checked button; its inner label follows through the palette,
# which the theme keeps in step with the stylesheet (highlighted text = checked text).
_LABEL_STYLE = 'QLabel[checked="true"] { color: palette(highlighted-text); }'


class ChoiceButton(QPushButton):
    """Touch, click, Space or Return toggles it; its accessible name is its text."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setCheckable(True)
        self.setAutoDefault(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setStyleSheet(_LABEL_STYLE)
        self._label = QLabel(text)
        self._label.setWordWrap(True)
        self._label.setTextFormat(Qt.TextFormat.PlainText)
        self._label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._label.setProperty("checked", False)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(20, 12, 20, 12)
        self._layout.addWidget(self._label)
        self.setAccessibleName(text)
        self.toggled.connect(self._on_toggled)

    def choice_text(self) -> str:
        """The text shown on the button."""
        return self._label.text()

    def sizeHint(self) -> QSize:
        hint = self._layout.sizeHint()
        return QSize(hint.width(), max(MIN_TOUCH_TARGET_PX, hint.height()))

    def minimumSizeHint(self) -> QSize:
        hint = self._layout.minimumSize()
        return QSize(min(hint.width(), 240), max(MIN_TOUCH_TARGET_PX, hint.height()))

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return max(MIN_TOUCH_TARGET_PX, self._layout.totalHeightForWidth(width))

    def _on_toggled(self, checked: bool) -> None:
        self._label.setProperty("checked", checked)
        style = self._label.style()
        style.unpolish(self._label)
        style.polish(self._label)
