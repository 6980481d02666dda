"""Officer sign-in offline: the pulled hash is checked; wrong passwords wait, then lock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk_app.core.clock import ManualClock
from kiosk_app.core.officer_auth import (
    LOCK_DURATION,
    MAX_ATTEMPTS,
    OfficerLoginService,
    OfficerOutcome,
)
from kiosk_app.store.db import Store
from tests.support.kiosk import FAST_HASHER, OFFICER_PASSWORD, open_test_store, seed_officer

PASSWORD = OFFICER_PASSWORD


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_test_store(tmp_path / "kiosk")
    seed_officer(store)
    yield store
    store.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def login(store: Store, clock: ManualClock) -> OfficerLoginService:
    return OfficerLoginService(store=store, clock=clock, hasher=FAST_HASHER)


@pytest.mark.parametrize("username", ["olive", " Olive "])
def test_the_right_password_signs_in(login: OfficerLoginService, username: str) -> None:
    result = login.attempt(username=username, password=PASSWORD)
    assert result.outcome is OfficerOutcome.SIGNED_IN
    assert result.officer is not None
    assert (result.officer.username, result.officer.role) == ("olive", "officer")


@pytest.mark.parametrize("username", ["olive", "nobody"])
def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(
    login: OfficerLoginService, username: str
) -> None:
    result = login.attempt(username=username, password="wrong password!")
    assert (result.outcome, result.officer, result.retry_after_seconds) == (
        OfficerOutcome.REFUSED,
        None,
        2,
    )


def test_a_retry_too_soon_is_not_checked(login: OfficerLoginService, clock: ManualClock) -> None:
    login.attempt(username="olive", password="wrong password!")
    assert login.attempt(username="olive", password=PASSWORD).outcome is OfficerOutcome.WAIT
    clock.advance(2)
    assert login.attempt(username="olive", password=PASSWORD).ok


def test_repeated_wrong_passwords_lock_the_officer_out_for_a_while(
    login: OfficerLoginService, clock: ManualClock
) -> None:
    outcomes = []
    for _ in range(MAX_ATTEMPTS):
        clock.advance(60)  # past every wait between tries
        outcomes.append(login.attempt(username="olive", password="wrong password!").outcome)
    assert outcomes == [OfficerOutcome.REFUSED] * (MAX_ATTEMPTS - 1) + [OfficerOutcome.LOCKED]
    clock.advance(60)
    assert login.attempt(username="olive", password=PASSWORD).outcome is OfficerOutcome.LOCKED
    clock.advance(LOCK_DURATION.total_seconds() - 60)
    assert login.attempt(username="olive", password=PASSWORD).ok
