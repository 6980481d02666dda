"""Full-window "Are you still there?" warning; any touch, click or key means yes."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

_ANSWERING_EVENTS = {
    QEvent.Type.MouseButtonPress,
    QEvent.Type.TouchBegin,
    QEvent.Type.KeyPress,
    QEvent.Type.TabletPress,
}


class IdleOverlay(QWidget):
    """Covers its parent while the idle countdown runs; the presenter owns the countdown."""

    still_here = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("IdleOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._seconds_left = 0
        self._question = QLabel()
        self._question.setProperty("role", "title")
        self._instruction = QLabel()
        self._number = QLabel()
        self._number.setProperty("role", "big-number")
        self._countdown = QLabel()
        self._countdown.setProperty("role", "countdown")
        self._button = QPushButton()
        self._button.setProperty("role", "primary")
        self._button.setAutoDefault(True)
        self._button.clicked.connect(self.still_here)
        layout = QVBoxLayout(self)
        layout.setSpacing(28)
        layout.addStretch(1)
        for label in (self._question, self._instruction, self._number, self._countdown):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setWordWrap(True)
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
            layout.addWidget(label)
        layout.addWidget(self._button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        parent.installEventFilter(self)
        self.hide()
        self._retranslate()

    def show_countdown(self, seconds_left: int) -> None:
        """Show (or update) the warning with this many seconds left before logout."""
        self._seconds_left = max(0, seconds_left)
        self._show_seconds()
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        if not self.isVisible():
            self.show()
            self.raise_()
            self._button.setFocus(Qt.FocusReason.OtherFocusReason)

    def dismiss(self) -> None:
        """Hide the warning (the presenter calls this after `still_here` or at logout)."""
        self.hide()

    def seconds_left(self) -> int:
        """The seconds shown now."""
        return self._seconds_left

    def event(self, event: QEvent) -> bool:
        if self.isVisible() and event.type() in _ANSWERING_EVENTS:
            self.still_here.emit()
            event.accept()
            return True
        return super().event(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        parent = self.parentWidget()
        if parent is not None and watched is parent and event.type() == QEvent.Type.Resize:
            self.setGeometry(parent.rect())
        return False

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _show_seconds(self) -> None:
        self._number.setText(str(self._seconds_left))
        text = self.tr("Logging out in %n seconds.", "", self._seconds_left)
        self._countdown.setText(text)
        self.setAccessibleDescription(text)

    def _retranslate(self) -> None:
        self.setAccessibleName(self.tr("Are you still there?"))
        self._question.setText(self.tr("Are you still there?"))
        self._instruction.setText(self.tr("Touch the screen to carry on."))
        self._button.setText(self.tr("I am still here"))
        self._button.setAccessibleName(self.tr("I am still here"))
        self._show_seconds()
