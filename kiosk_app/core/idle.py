"""Inactivity on a shared kiosk: active, then a warning with a countdown, then timed out."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from kiosk_app.core.clock import Clock
from sync_server.protocol import Settings


class IdlePhase(StrEnum):
    ACTIVE = "active"
    WARNING = "warning"
    TIMED_OUT = "timed-out"


@dataclass(frozen=True, slots=True)
class IdleState:
    phase: IdlePhase
    seconds_left: int  # until timeout; 0 once timed out


class IdleTimer:
    """Pure state machine over a monotonic clock; the UI calls `tick()` from a QTimer.

    Once timed out it stays timed out (activity no longer counts) until `reset()`, so a
    tap that lands while the logout is happening cannot revive the session.
    """

    def __init__(self, *, clock: Clock, timeout_seconds: int, warning_seconds: int) -> None:
        if not 0 < warning_seconds < timeout_seconds:
            raise ValueError("the warning must start after 0 s and before the timeout")
        self._clock = clock
        self._timeout_ms = timeout_seconds * 1000
        self._warning_ms = warning_seconds * 1000
        self._last = clock.monotonic_ms()
        self._timed_out = False

    @classmethod
    def from_settings(cls, *, clock: Clock, settings: Settings) -> IdleTimer:
        warning = min(settings.idle_warning_seconds, settings.idle_timeout_seconds - 1)
        return cls(
            clock=clock,
            timeout_seconds=settings.idle_timeout_seconds,
            warning_seconds=warning,
        )

    def activity(self) -> None:
        """Any touch, key or pointer movement; ignored once timed out."""
        if not self._timed_out:
            self._last = self._clock.monotonic_ms()

    def reset(self) -> None:
        """Start afresh (a new participant signed in)."""
        self._timed_out = False
        self._last = self._clock.monotonic_ms()

    def tick(self) -> IdleState:
        if self._timed_out:
            return IdleState(IdlePhase.TIMED_OUT, 0)
        left_ms = self._timeout_ms - (self._clock.monotonic_ms() - self._last)
        if left_ms <= 0:
            self._timed_out = True
            return IdleState(IdlePhase.TIMED_OUT, 0)
        seconds_left = math.ceil(left_ms / 1000)
        if left_ms <= self._warning_ms:
            return IdleState(IdlePhase.WARNING, seconds_left)
        return IdleState(IdlePhase.ACTIVE, seconds_left)
