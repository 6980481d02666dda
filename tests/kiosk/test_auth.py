"""Participant login: plain refusals, growing delays, lockout, and the first-login PIN choice."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from kiosk_app.core.auth import (
    LOCKED_MESSAGE,
    WRONG_DETAILS,
    LoginOutcome,
    LoginService,
    delay_after,
    pin_problem,
)
from kiosk_app.core.clock import ManualClock
from kiosk_app.store import keys, repos
from kiosk_app.store.db import Store, open_store
from kiosk_app.store.models import JournalEvent

# Cheap parameters: the tests hash many PINs; the kiosk uses argon2-cffi's defaults.
HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
CODE = "ABC-00001"
GIVEN_PIN = "246810"
PARTICIPANT = "6f1c2d3e-0000-4000-8000-000000000001"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    data = tmp_path / "kiosk"
    with open_store(data, key_store=keys.FileKeyStore(data / "db.key")) as opened:
        with opened.unit() as s:
            repos.add_participant(
                s,
                participant_id=PARTICIPANT,
                first_name="Sam",
                access_code=CODE,
                pin_hash=HASHER.hash(GIVEN_PIN),
            )
        yield opened


@pytest.fixture
def login(store: Store, clock: ManualClock) -> LoginService:
    return LoginService(store=store, clock=clock, hasher=HASHER)


def _events(store: Store) -> list[JournalEvent]:
    with store.unit() as s:
        return list(s.scalars(select(JournalEvent).order_by(JournalEvent.seq)))


def test_first_login_signs_in_and_asks_for_privacy_and_a_new_pin(
    login: LoginService, store: Store
) -> None:
    result = login.attempt(access_code=CODE.lower(), pin=GIVEN_PIN)
    assert result.outcome is LoginOutcome.SIGNED_IN
    assert result.participant_id == PARTICIPANT
    assert result.needs_privacy_notice
    assert result.must_choose_pin
    assert [e.type for e in _events(store)] == ["session.started"]


def test_wrong_pin_gets_a_plain_message_and_a_growing_delay(
    login: LoginService, store: Store, clock: ManualClock
) -> None:
    waits = []
    for _ in range(4):
        result = login.attempt(access_code=CODE, pin="999999")
        assert result.outcome is LoginOutcome.REFUSED
        assert result.message == WRONG_DETAILS
        waits.append(result.retry_after_seconds)
        clock.advance(result.retry_after_seconds)
    assert waits == [2, 4, 8, 16]
    assert [e.type for e in _events(store)] == ["login.failed"] * 4


def test_an_attempt_during_the_delay_is_refused_without_checking_the_pin(
    login: LoginService, store: Store, clock: ManualClock
) -> None:
    login.attempt(access_code=CODE, pin="999999")
    clock.advance(1)
    early = login.attempt(access_code=CODE, pin=GIVEN_PIN)  # the right PIN, too soon
    assert early.outcome is LoginOutcome.WAIT
    assert early.retry_after_seconds == 1
    assert "wait 1 second" in early.message
    clock.advance(1)
    assert login.attempt(access_code=CODE, pin=GIVEN_PIN).ok
    assert [e.type for e in _events(store)] == ["login.failed", "session.started"]


def test_success_resets_the_failure_count(
    login: LoginService, store: Store, clock: ManualClock
) -> None:
    login.attempt(access_code=CODE, pin="999999")
    clock.advance(2)
    assert login.attempt(access_code=CODE, pin=GIVEN_PIN).ok
    with store.unit() as s:
        person = repos.participant(s, PARTICIPANT)
        assert person is not None
        assert person.failed_pin_attempts == 0


def test_five_wrong_pins_lock_the_participant_out(
    login: LoginService, store: Store, clock: ManualClock
) -> None:
    for _ in range(5):
        result = login.attempt(access_code=CODE, pin="999999")
        clock.advance(result.retry_after_seconds)
    assert result.outcome is LoginOutcome.LOCKED
    assert "ask an officer" in result.message
    clock.advance(3600)
    again = login.attempt(access_code=CODE, pin=GIVEN_PIN)
    assert again.outcome is LoginOutcome.LOCKED
    assert again.message == LOCKED_MESSAGE
    failed = _events(store)
    assert [e.type for e in failed] == ["login.failed"] * 5
    assert failed[-1].data == {"failed_attempts": 5, "locked": True}


def test_an_unknown_code_reads_like_a_wrong_pin_and_journals_nothing(
    login: LoginService, store: Store
) -> None:
    result = login.attempt(access_code="ZZZ-99999", pin=GIVEN_PIN)
    assert result.outcome is LoginOutcome.REFUSED
    assert result.message == WRONG_DETAILS
    assert result.participant_id is None
    assert _events(store) == []


def test_unknown_codes_get_the_same_delays(login: LoginService, clock: ManualClock) -> None:
    assert login.attempt(access_code="ZZZ-99999", pin="1").retry_after_seconds == 2
    assert login.attempt(access_code="ZZZ-99999", pin="1").outcome is LoginOutcome.WAIT


@pytest.mark.parametrize(("failures", "seconds"), [(0, 0), (1, 2), (2, 4), (3, 8), (4, 16)])
def test_delay_table(failures: int, seconds: int) -> None:
    assert delay_after(failures) == seconds


@pytest.mark.parametrize(
    ("pin", "confirm", "problem"),
    [
        ("482915", "482915", None),
        ("013579", "013579", None),
        ("12345", "12345", "must be 6 numbers"),
        ("1234567", "1234567", "must be 6 numbers"),
        ("12a456", "12a456", "must be 6 numbers"),
        ("١٢٣٤٥٧", "١٢٣٤٥٧", "must be 6 numbers"),
        ("777777", "777777", "same number six times"),
        ("123456", "123456", "numbers in order"),
        ("345678", "345678", "numbers in order"),
        ("654321", "654321", "numbers in order"),
        ("987654", "987654", "numbers in order"),
        ("482915", "482916", "not the same"),
    ],
)
def test_pin_choice_rules(pin: str, confirm: str, problem: str | None) -> None:
    found = pin_problem(pin, confirm)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def test_choosing_a_pin_journals_its_argon2id_hash(login: LoginService, store: Store) -> None:
    choice = login.choose_pin(participant_id=PARTICIPANT, new_pin="482915", confirm="482915")
    assert choice.accepted
    changed = _events(store)[-1]
    assert changed.type == "pin.changed"
    assert str(changed.data["pin_hash"]).startswith("$argon2id$")
    assert HASHER.verify(str(changed.data["pin_hash"]), "482915")
    assert login.attempt(access_code=CODE, pin="482915").must_choose_pin is False
    assert login.attempt(access_code=CODE, pin=GIVEN_PIN).outcome is LoginOutcome.REFUSED


def test_the_pin_an_officer_gave_cannot_be_chosen(login: LoginService, store: Store) -> None:
    choice = login.choose_pin(participant_id=PARTICIPANT, new_pin=GIVEN_PIN, confirm=GIVEN_PIN)
    assert not choice.accepted
    assert _events(store) == []


def test_a_refused_pin_changes_nothing(login: LoginService, store: Store) -> None:
    assert not login.choose_pin(
        participant_id=PARTICIPANT, new_pin="111111", confirm="111111"
    ).accepted
    assert _events(store) == []


def test_privacy_confirmation_is_asked_once(login: LoginService) -> None:
    login.confirm_privacy(participant_id=PARTICIPANT)
    assert not login.attempt(access_code=CODE, pin=GIVEN_PIN).needs_privacy_notice


def test_logs_carry_ids_never_pins_or_names(
    login: LoginService, caplog: pytest.LogCaptureFixture, clock: ManualClock
) -> None:
    caplog.set_level(logging.DEBUG)
    login.attempt(access_code=CODE, pin="999999")
    clock.advance(2)
    login.attempt(access_code=CODE, pin=GIVEN_PIN)
    login.choose_pin(participant_id=PARTICIPANT, new_pin="482915", confirm="482915")
    text = caplog.text
    assert PARTICIPANT in text
    for secret in ("999999", GIVEN_PIN, "482915", "Sam"):
        assert secret not in text
