"""Inactivity on screen: ticks the core's IdleTimer, shows the warning, reports the timeout."""

from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget

from kiosk_app.core.idle import IdlePhase, IdleTimer
from kiosk_app.ui.widgets.idle_overlay import IdleOverlay

# The countdown shows whole seconds; ticking four times a second keeps it on time.
IDLE_TICK_MS = 250


class IdleWatch(QObject):
    """Runs while someone is at the kiosk (any screen but Welcome); `timed_out` ends it."""

    timed_out = Signal()

    def __init__(
        self,
        *,
        overlay: IdleOverlay,
        make_timer: Callable[[], IdleTimer],
        tick_ms: int = IDLE_TICK_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._overlay = overlay
        self._make_timer = make_timer
        self._idle: IdleTimer | None = None
        self._focus_before: QWidget | None = None
        self._ticker = QTimer(self)
        self._ticker.setInterval(tick_ms)
        self._ticker.timeout.connect(self.tick)
        overlay.still_here.connect(self.still_here)
        # A watch can outlive its window (the officer console's is not the window's child):
        # once the overlay is gone there is nothing left to watch.
        overlay.destroyed.connect(self._ticker.stop)

    def start(self) -> None:
        """(Re)start counting from now, with the idle settings as they are now."""
        self._idle = self._make_timer()
        self._dismiss()
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()
        self._idle = None
        self._focus_before = None
        self._overlay.dismiss()

    @property
    def running(self) -> bool:
        return self._idle is not None

    def activity(self) -> None:
        """Any input: the countdown starts again (the overlay goes at the next tick)."""
        if self._idle is not None:
            self._idle.activity()

    def still_here(self) -> None:
        if self._idle is not None:
            self._idle.activity()
        self._dismiss()

    def tick(self) -> None:
        idle = self._idle
        if idle is None:
            return
        state = idle.tick()
        if state.phase is IdlePhase.ACTIVE:
            self._dismiss()
        elif state.phase is IdlePhase.WARNING:
            if not self._overlay.isVisible():
                self._focus_before = QApplication.focusWidget()
            self._overlay.show_countdown(state.seconds_left)
        else:
            self.stop()
            self.timed_out.emit()

    def _dismiss(self) -> None:
        if not self._overlay.isVisible():
            return
        self._overlay.dismiss()
        # Back to where they were typing, so "I am still here" loses nothing.
        widget, self._focus_before = self._focus_before, None
        if widget is not None and shiboken6.isValid(widget) and widget.isVisible():
            widget.setFocus(Qt.FocusReason.OtherFocusReason)
