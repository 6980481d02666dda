"""A big checkable button whose text wraps over lines (quiz options, pledge actions)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMargins, QRect, QSize, Qt
from PySide6.QtGui import QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOptionButton,
    QStylePainter,
    QWidget,
)

from kiosk_app.ui.theme import MIN_TOUCH_TARGET_PX

_MARGINS = QMargins(20, 12, 20, 12)  # between the button's edge and its words
_WRAP = Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap
_MIN_WIDTH_PX = 240
_TALL = 100_000  # room enough for any text when measuring its height at a width


class ChoiceButton(QPushButton):
    """Touch, click, Space or Return toggles it; its accessible name is its text.

    One widget, no label inside: the style draws the button (the stylesheet's frame, checked
    and focus states) and the words are drawn over it, wrapped. A quiz or pledge step builds
    several of these at every Next, and a label with its own layout and stylesheet in each
    cost the step about 1 ms a button. The words take the palette's highlighted-text colour
    when chosen (the theme keeps it equal to the checked text colour), button text otherwise.
    """

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = text
        self._heights: dict[int, int] = {}  # text width -> height of the wrapped words
        self.setCheckable(True)
        self.setAutoDefault(True)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setAccessibleName(text)

    def choice_text(self) -> str:
        """The text shown on the button."""
        return self._text

    def _words_height(self, width: int) -> int:
        inner = max(1, width - _MARGINS.left() - _MARGINS.right())
        height = self._heights.get(inner)
        if height is None:
            box = QRect(0, 0, inner, _TALL)
            height = self.fontMetrics().boundingRect(box, _WRAP, self._text).height()
            self._heights[inner] = height
        return height

    def sizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        words = min(metrics.horizontalAdvance(self._text), 60 * metrics.averageCharWidth())
        width = words + _MARGINS.left() + _MARGINS.right()
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        width = min(self.sizeHint().width(), _MIN_WIDTH_PX)
        return QSize(width, MIN_TOUCH_TARGET_PX)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        words = self._words_height(width) + _MARGINS.top() + _MARGINS.bottom()
        return max(MIN_TOUCH_TARGET_PX, words)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionButton()
        self.initStyleOption(option)
        option.text = ""
        painter.drawControl(QStyle.ControlElement.CE_PushButton, option)
        roles = QPalette.ColorRole
        role = roles.HighlightedText if self.isChecked() else roles.ButtonText
        # The active group in every state, as the words always had: a marked quiz disables its
        # options, and the chosen one must stay as readable as before.
        painter.setPen(self.palette().color(QPalette.ColorGroup.Active, role))
        align = QStyle.visualAlignment(self.layoutDirection(), Qt.AlignmentFlag.AlignLeft)
        painter.drawText(self.rect().marginsRemoved(_MARGINS), int(align | _WRAP), self._text)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._heights.clear()
            self.updateGeometry()
        super().changeEvent(event)
