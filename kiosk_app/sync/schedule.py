"""When to sync next: the regular interval with jitter, and backoff after failures.

Qt-free policy: the UI asks `SyncScheduler.delay_seconds(...)` and arms a QTimer with it.
The backoff's next-attempt time lives in the store (`SyncState.next_attempt_at`), so a
restarted kiosk keeps waiting instead of hammering a server that is down.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import tenacity

MAX_BACKOFF_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with random jitter: between `base` and base * 2^(n-1), capped."""

    base_seconds: float = 15.0
    cap_seconds: float = MAX_BACKOFF_SECONDS

    def delay_seconds(self, failures: int) -> float:
        """Seconds to wait after `failures` consecutive failed syncs (failures >= 1)."""
        wait = tenacity.wait_random_exponential(
            multiplier=self.base_seconds, max=self.cap_seconds, min=self.base_seconds
        )
        state = tenacity.RetryCallState(tenacity.Retrying(), fn=None, args=(), kwargs={})
        state.attempt_number = max(1, failures)
        return float(wait(state))


@dataclass(slots=True)
class SyncScheduler:
    """The next time a sync is due, for a timer: the interval (jittered) or the backoff."""

    interval_seconds: float = 300.0
    jitter: float = 0.2
    max_backoff_seconds: float = MAX_BACKOFF_SECONDS
    rng: random.Random = field(default_factory=random.Random)

    def next_due(
        self,
        *,
        now: datetime,
        last_attempt_at: datetime | None,
        next_attempt_at: datetime | None,
    ) -> datetime:
        """After a failure, the persisted backoff time; otherwise the last attempt plus the
        interval, spread by +-jitter so a fleet of kiosks does not call at the same moment."""
        if next_attempt_at is not None:
            return next_attempt_at
        if last_attempt_at is None:
            return now
        spread = self.rng.uniform(1 - self.jitter, 1 + self.jitter)
        return last_attempt_at + timedelta(seconds=self.interval_seconds * spread)

    def delay_seconds(
        self,
        *,
        now: datetime,
        last_attempt_at: datetime | None,
        next_attempt_at: datetime | None,
    ) -> float:
        """Seconds from `now` until the next sync (0 if it is due already)."""
        due = self.next_due(
            now=now, last_attempt_at=last_attempt_at, next_attempt_at=next_attempt_at
        )
        # A wall clock set back must not postpone a sync by the size of the jump.
        if next_attempt_at is None:
            longest = self.interval_seconds * (1 + self.jitter)
        else:
            longest = self.max_backoff_seconds
        return min(max(0.0, (due - now).total_seconds()), longest)
