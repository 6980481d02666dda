"""The download meter: speed over the last seconds, time left, and not too many reports."""

from __future__ import annotations

import pytest

from kiosk_app.core.download_meter import DownloadMeter, TransferProgress


class Ticks:
    """A monotonic clock the test sets."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def meter(ticks: Ticks) -> DownloadMeter:
    return DownloadMeter(now=ticks, window=5.0, interval=0.1)


def _feed(
    meter: DownloadMeter, ticks: Ticks, points: list[tuple[float, int]], total: int
) -> list[TransferProgress | None]:
    shown = []
    for at, done in points:
        ticks.now = 100.0 + at
        shown.append(meter.update("p", 1, done, total))
    return shown


def test_speed_and_time_left_come_from_the_bytes_over_time(
    meter: DownloadMeter, ticks: Ticks
) -> None:
    shown = _feed(meter, ticks, [(0, 0), (0.5, 500_000), (1.0, 1_000_000)], total=5_000_000)
    first, _, last = shown
    assert first is not None
    assert (first.bytes_per_second, first.seconds_left) == (None, None)  # too soon to tell
    assert last is not None
    assert last.bytes_per_second == pytest.approx(1_000_000)
    assert last.seconds_left == pytest.approx(4.0)
    assert last.fraction == pytest.approx(0.2)
    assert not last.finished


def test_the_speed_follows_the_last_seconds_only(meter: DownloadMeter, ticks: Ticks) -> None:
    # Fast at first (1 MB/s for 10 s), then slow (100 kB/s): the old pace is forgotten.
    points = [(float(t), t * 1_000_000) for t in range(11)]
    points += [(10.0 + t, 10_000_000 + t * 100_000) for t in range(1, 11)]
    last = _feed(meter, ticks, points, total=100_000_000)[-1]
    assert last is not None
    assert last.bytes_per_second == pytest.approx(100_000)


def test_reports_are_spaced_but_the_last_byte_is_always_reported(
    meter: DownloadMeter, ticks: Ticks
) -> None:
    shown = _feed(meter, ticks, [(0, 0), (0.01, 10), (0.02, 20), (0.15, 30), (0.16, 40)], total=40)
    assert [p is not None for p in shown] == [True, False, False, True, True]
    last = shown[-1]
    assert last is not None
    assert last.finished


def test_another_pack_or_a_restart_starts_measuring_afresh(
    meter: DownloadMeter, ticks: Ticks
) -> None:
    _feed(meter, ticks, [(0, 0), (1.0, 1_000_000)], total=2_000_000)
    ticks.now = 101.5
    other = meter.update("q", 1, 10, 2_000_000)
    assert other is not None
    assert other.bytes_per_second is None
    ticks.now = 103.0
    again = meter.update("q", 1, 5, 2_000_000)  # started again from the beginning
    assert again is not None
    assert again.bytes_per_second is None


def test_a_resumed_download_counts_only_what_arrives_now(
    meter: DownloadMeter, ticks: Ticks
) -> None:
    shown = _feed(meter, ticks, [(0, 4_000_000), (1.0, 4_500_000)], total=5_000_000)
    last = shown[-1]
    assert last is not None
    assert last.bytes_per_second == pytest.approx(500_000)
    assert last.seconds_left == pytest.approx(1.0)
    assert last.fraction == pytest.approx(0.9)
