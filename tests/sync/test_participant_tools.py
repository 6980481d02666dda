"""An officer's PIN reset and unlock on one kiosk reach the server and the site's other kiosks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from argon2 import PasswordHasher

from kiosk_app.core.auth import LoginOutcome
from kiosk_app.core.officer import Credentials
from sync_server import models
from tests.support.live_server import LiveServer
from tests.support.world import PROGRAMME_ID, World
from tests.sync.kiosks import Kiosk

WRONG_PIN = "135790"


@pytest.fixture
def two_kiosks(
    server: LiveServer, world: World, make_kiosk: Callable[..., Kiosk]
) -> tuple[Kiosk, Kiosk]:
    first, second = make_kiosk("kiosk-1"), make_kiosk("kiosk-2")
    for kiosk in (first, second):
        assert kiosk.enrol(server.url, world.code("north-custody")).first_sync.ok
    return first, second


def _register(kiosk: Kiosk) -> Credentials:
    slip = kiosk.officer.register(
        first_name="Sam",
        force_reference="NC/2026/0042",
        programme_id=PROGRAMME_ID,
        disposal_type="community_resolution",
        due_date=date(2026, 3, 30),
    )
    assert kiosk.engine.run_once().ok
    return slip


def _sync(*kiosks: Kiosk) -> None:
    for kiosk in kiosks:
        result = kiosk.engine.run_once(force=True)
        assert result.ok, result.error
        assert kiosk.unacked() == 0


def _on_server(world: World, participant_id: str) -> models.Participant:
    with world.sessions() as s:
        row = s.get(models.Participant, participant_id)
        assert row is not None
        s.expunge(row)
        return row


def _lock_out(kiosk: Kiosk, access_code: str) -> None:
    for _ in range(5):
        kiosk.clock.advance(120)  # past each growing wait
        outcome = kiosk.session.sign_in(access_code=access_code, pin=WRONG_PIN).outcome
    assert outcome is LoginOutcome.LOCKED


def test_an_unlock_reaches_the_server_and_the_other_kiosk(
    two_kiosks: tuple[Kiosk, Kiosk], world: World
) -> None:
    first, second = two_kiosks
    slip = _register(first)
    _lock_out(first, slip.access_code)
    _sync(first, second)
    locked = _on_server(world, slip.participant_id)
    assert locked.locked_at is not None
    second_try = second.session.sign_in(access_code=slip.access_code, pin=slip.temporary_pin)
    assert second_try.outcome is LoginOutcome.LOCKED  # the lockout followed them

    first.officer.unlock(participant_id=slip.participant_id)
    _sync(first, second)
    unlocked = _on_server(world, slip.participant_id)
    assert (unlocked.locked_at, unlocked.failed_pin_attempts) == (None, 0)
    assert second.session.sign_in(access_code=slip.access_code, pin=slip.temporary_pin).ok


def test_a_pin_reset_reaches_the_server_and_the_other_kiosk(
    two_kiosks: tuple[Kiosk, Kiosk], world: World
) -> None:
    first, second = two_kiosks
    slip = _register(first)
    _lock_out(first, slip.access_code)
    _sync(first, second)

    new_pin = second.officer.reset_pin(participant_id=slip.participant_id)
    _sync(second, first)
    reset = _on_server(world, slip.participant_id)
    assert reset.pin_hash is not None
    assert PasswordHasher().verify(reset.pin_hash, new_pin)
    assert (reset.pin_must_change, reset.locked_at, reset.failed_pin_attempts) == (True, None, 0)
    first.clock.advance(120)
    old = first.session.sign_in(access_code=slip.access_code, pin=slip.temporary_pin)
    assert old.outcome is LoginOutcome.REFUSED
    first.clock.advance(120)
    fresh = first.session.sign_in(access_code=slip.access_code, pin=new_pin)
    assert fresh.ok
    assert fresh.must_choose_pin
