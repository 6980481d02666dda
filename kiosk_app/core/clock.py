"""Time for the core: a Clock protocol, the system clock, and a manual clock for tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Wall-clock time, timezone-aware UTC (recorded on events; never trusted for deadlines)."""
        ...

    def monotonic_ms(self) -> int:
        """Milliseconds on a clock that never jumps (dwell times and timers)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic_ms(self) -> int:
        return time.monotonic_ns() // 1_000_000


class ManualClock:
    """A clock that moves only when told to; both readings advance together."""

    def __init__(self, start: datetime | None = None, monotonic_ms: int = 1_000_000) -> None:
        self._now = start if start is not None else datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._mono = monotonic_ms

    def now(self) -> datetime:
        return self._now

    def monotonic_ms(self) -> int:
        return self._mono

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock never goes back")
        self._now += timedelta(seconds=seconds)
        self._mono += round(seconds * 1000)
