"""Turns a press held on a widget for a while into a signal (the officer's way in)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

LONG_PRESS_MS = 3000
_PRESS = {QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin}
_RELEASE = {
    QEvent.Type.MouseButtonRelease,
    QEvent.Type.TouchEnd,
    QEvent.Type.TouchCancel,
    QEvent.Type.Leave,
    QEvent.Type.Hide,
}


class LongPress(QObject):
    """Emits `held` once a press on `target` has lasted `hold_ms` without being let go."""

    held = Signal()

    def __init__(self, target: QWidget, *, hold_ms: int = LONG_PRESS_MS) -> None:
        super().__init__(target)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(hold_ms)
        self._timer.timeout.connect(self.held)
        target.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _PRESS:
            self._timer.start()
        elif event.type() in _RELEASE:
            self._timer.stop()
        return False
