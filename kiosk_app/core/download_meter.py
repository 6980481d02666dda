"""Speed and time left for a pack download, from the byte counts the sync client reports.

The speed is measured over the last few seconds, so it follows the network as it changes;
reports come at most every `interval` seconds (and always for the last byte), so a download
arriving in thousands of small chunks does not flood the screen with updates.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 5.0
INTERVAL_SECONDS = 0.1
# Less than this much time measured and the speed is a guess too wild to show.
MIN_SPAN_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class TransferProgress:
    pack_id: str
    version: int
    done: int  # bytes on disk, counting a resumed download's earlier part
    total: int
    bytes_per_second: float | None  # None until enough has arrived to tell
    seconds_left: float | None

    @property
    def fraction(self) -> float:
        return 0.0 if self.total <= 0 else min(1.0, self.done / self.total)

    @property
    def finished(self) -> bool:
        return self.total > 0 and self.done >= self.total


class DownloadMeter:
    """Feed it `update(pack, version, done, total)` as bytes arrive (from one thread)."""

    def __init__(
        self,
        *,
        now: Callable[[], float] = time.monotonic,
        window: float = WINDOW_SECONDS,
        interval: float = INTERVAL_SECONDS,
    ) -> None:
        self._now = now
        self._window = window
        self._interval = interval
        self._key: tuple[str, int] | None = None
        self._samples: deque[tuple[float, int]] = deque()
        self._last_report: float | None = None

    def reset(self) -> None:
        self._key = None
        self._samples.clear()
        self._last_report = None

    def update(self, pack_id: str, version: int, done: int, total: int) -> TransferProgress | None:
        """The progress to show now, or None when the last report was too recent."""
        t = self._now()
        if (pack_id, version) != self._key or (self._samples and done < self._samples[-1][1]):
            self.reset()  # another pack, or this one started again from the beginning
            self._key = (pack_id, version)
        while self._samples and self._samples[0][0] < t - self._window:
            self._samples.popleft()
        if not self._samples or t - self._samples[-1][0] >= self._interval:
            self._samples.append((t, done))
        finished = total > 0 and done >= total
        recent = self._last_report is not None and t - self._last_report < self._interval
        if recent and not finished:
            return None
        self._last_report = t
        speed = left = None
        first_time, first_done = self._samples[0]
        if t - first_time >= MIN_SPAN_SECONDS and done > first_done:
            speed = (done - first_done) / (t - first_time)
            left = max(0, total - done) / speed
        return TransferProgress(pack_id, version, done, total, speed, left)
