"""The sync timer's policy: the interval with jitter, and jittered exponential backoff."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from kiosk_app.sync.schedule import Backoff, SyncScheduler

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("failures", "low", "high"),
    [(1, 10, 10), (2, 10, 20), (3, 10, 40), (4, 10, 80), (12, 10, 300)],
)
def test_backoff_grows_exponentially_with_jitter_and_a_cap(
    failures: int, low: float, high: float
) -> None:
    backoff = Backoff(base_seconds=10, cap_seconds=300)
    delays = [backoff.delay_seconds(failures) for _ in range(200)]
    assert all(low <= d <= high for d in delays)
    if high > low:
        assert len(set(delays)) > 100  # jittered, so a fleet does not retry in step


def test_the_interval_is_jittered_around_the_setting() -> None:
    scheduler = SyncScheduler(interval_seconds=300, jitter=0.2, rng=random.Random(7))
    dues = [
        scheduler.next_due(now=NOW, last_attempt_at=NOW, next_attempt_at=None) for _ in range(200)
    ]
    assert all(NOW + timedelta(seconds=240) <= d <= NOW + timedelta(seconds=360) for d in dues)
    assert len(set(dues)) > 100


@pytest.mark.parametrize(
    ("last", "backing_off_until", "expected"),
    [
        (None, None, 0.0),  # never synced: now
        (NOW - timedelta(hours=2), None, 0.0),  # overdue: now
        (NOW, NOW + timedelta(seconds=90), 90.0),  # backing off: the persisted time
        (NOW, NOW - timedelta(seconds=5), 0.0),  # backoff over: now
        (NOW + timedelta(days=3), None, 360.0),  # clock set back: at most one interval
        (NOW, NOW + timedelta(days=3), 3600.0),  # clock set back: at most the backoff cap
    ],
)
def test_the_delay_until_the_next_sync(
    last: datetime | None, backing_off_until: datetime | None, expected: float
) -> None:
    scheduler = SyncScheduler(interval_seconds=300, jitter=0.2, rng=random.Random(1))
    delay = scheduler.delay_seconds(
        now=NOW, last_attempt_at=last, next_attempt_at=backing_off_until
    )
    assert delay == pytest.approx(expected)
