"""The idle timer: active, a warning with a countdown, then timed out until reset."""

from __future__ import annotations

import pytest

from kiosk_app.core.clock import ManualClock
from kiosk_app.core.idle import IdlePhase, IdleState, IdleTimer
from sync_server.protocol import Settings


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def timer(clock: ManualClock) -> IdleTimer:
    return IdleTimer(clock=clock, timeout_seconds=120, warning_seconds=30)


@pytest.mark.parametrize(
    ("idle_seconds", "expected"),
    [
        (0, IdleState(IdlePhase.ACTIVE, 120)),
        (89.5, IdleState(IdlePhase.ACTIVE, 31)),
        (90, IdleState(IdlePhase.WARNING, 30)),
        (119.2, IdleState(IdlePhase.WARNING, 1)),
        (120, IdleState(IdlePhase.TIMED_OUT, 0)),
        (500, IdleState(IdlePhase.TIMED_OUT, 0)),
    ],
)
def test_state_after_idle_time(
    timer: IdleTimer, clock: ManualClock, idle_seconds: float, expected: IdleState
) -> None:
    clock.advance(idle_seconds)
    assert timer.tick() == expected


def test_activity_during_the_warning_starts_the_count_again(
    timer: IdleTimer, clock: ManualClock
) -> None:
    clock.advance(100)
    assert timer.tick().phase is IdlePhase.WARNING
    timer.activity()
    assert timer.tick() == IdleState(IdlePhase.ACTIVE, 120)


def test_once_timed_out_activity_does_not_revive_it_until_reset(
    timer: IdleTimer, clock: ManualClock
) -> None:
    clock.advance(120)
    assert timer.tick().phase is IdlePhase.TIMED_OUT
    timer.activity()
    assert timer.tick().phase is IdlePhase.TIMED_OUT
    timer.reset()
    assert timer.tick() == IdleState(IdlePhase.ACTIVE, 120)


def test_configured_from_the_server_settings(clock: ManualClock) -> None:
    timer = IdleTimer.from_settings(
        clock=clock, settings=Settings(idle_timeout_seconds=60, idle_warning_seconds=10)
    )
    clock.advance(50)
    assert timer.tick() == IdleState(IdlePhase.WARNING, 10)


@pytest.mark.parametrize(("timeout", "warning"), [(60, 0), (60, 60), (60, 90)])
def test_a_warning_outside_the_timeout_is_refused(
    clock: ManualClock, timeout: int, warning: int
) -> None:
    with pytest.raises(ValueError, match="warning"):
        IdleTimer(clock=clock, timeout_seconds=timeout, warning_seconds=warning)
