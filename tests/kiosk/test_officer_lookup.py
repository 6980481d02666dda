"""Finding participants for the officer console, and their record with Home's progress."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk_app.core.clock import ManualClock
from kiosk_app.core.library import PackLibrary
from kiosk_app.core.officer import OfficerError, OfficerService, Problem
from kiosk_app.core.officer_lookup import ParticipantLookup, matches
from kiosk_app.store import repos
from kiosk_app.store.db import Store
from tests.support.kiosk import (
    FAST_HASHER,
    START,
    SamplePack,
    Seeded,
    build_sample_pack,
    install_sample,
    open_test_store,
    register,
    work_until,
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SamplePack:
    return build_sample_pack(tmp_path_factory.mktemp("pack"))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def store(tmp_path: Path, sample: SamplePack) -> Iterator[Store]:
    with open_test_store(tmp_path / "kiosk") as opened:
        install_sample(opened, sample)
        yield opened


@pytest.fixture
def library(store: Store) -> Iterator[PackLibrary]:
    opened = PackLibrary(store=store)
    yield opened
    opened.close()


@pytest.fixture
def lookup(store: Store, clock: ManualClock, library: PackLibrary) -> ParticipantLookup:
    return ParticipantLookup(store=store, clock=clock, library=library)


@pytest.fixture
def people(store: Store, sample: SamplePack) -> dict[str, Seeded]:
    names = {"K7Q-00001": "Sam", "K7Q-00002": "Samira", "K7Q-00012": "Łukasz", "ABC-00002": "Jo"}
    return {
        code: register(store, programme=sample.programme, access_code=code, first_name=name)
        for code, name in names.items()
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("K7Q-00001", True),  # the whole code
        (" k7q-00001 ", True),  # as typed, any case
        ("00001", True),  # the number alone
        ("sam", True),  # the start of the name, any case
        ("SA", True),
        ("am", False),  # not the start of the name
        ("K7Q", True),  # has a digit: part of the code
        ("Q-", False),  # no digit: not read as part of a code
        ("", False),
        ("   ", False),
    ],
)
def test_what_a_query_matches(query: str, expected: bool) -> None:
    assert matches(query, first_name="Sam", access_code="K7Q-00001") is expected


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("sam", ["K7Q-00001", "K7Q-00002"]),
        ("SAMI", ["K7Q-00002"]),
        ("łuk", ["K7Q-00012"]),  # beyond ASCII, case folded all the same
        ("ŁUK", ["K7Q-00012"]),
        ("00002", ["ABC-00002", "K7Q-00002"]),
        ("K7Q-00002", ["K7Q-00002"]),
        ("zed", []),
    ],
)
def test_find_by_access_code_or_first_name(
    lookup: ParticipantLookup, people: dict[str, Seeded], query: str, found: list[str]
) -> None:
    codes = [m.access_code for m in lookup.find(query)]
    assert sorted(codes) == sorted(found)


def test_matches_come_in_order_of_first_name(
    lookup: ParticipantLookup, people: dict[str, Seeded]
) -> None:
    found = lookup.find("k7q")
    assert [m.first_name for m in found] == ["Sam", "Samira", "Łukasz"]
    assert found[2].participant_id == people["K7Q-00012"].participant_id
    assert [m.first_name for m in lookup.find("00002")] == ["Jo", "Samira"]


def test_at_most_the_limit_is_answered(
    lookup: ParticipantLookup, people: dict[str, Seeded]
) -> None:
    assert len(lookup.find("0000", limit=2)) == 2


def test_a_locked_participant_is_shown_as_locked(
    lookup: ParticipantLookup, store: Store, people: dict[str, Seeded]
) -> None:
    with store.unit() as s:
        person = repos.participant(s, people["K7Q-00001"].participant_id)
        assert person is not None
        person.locked = True
    found = {m.access_code: m.locked for m in lookup.find("sam")}
    assert found == {"K7Q-00001": True, "K7Q-00002": False}


def test_the_record_carries_homes_progress_per_module(
    lookup: ParticipantLookup,
    store: Store,
    sample: SamplePack,
    clock: ManualClock,
    people: dict[str, Seeded],
) -> None:
    who = people["K7Q-00001"]
    work_until(store, who, sample.programme, step_id="what-is-a-unit", clock=clock)
    record = lookup.record(who.participant_id)
    assert (record.first_name, record.access_code) == ("Sam", "K7Q-00001")
    assert (record.locked, record.must_choose_pin) == (False, True)
    (enrolment,) = record.enrolments
    assert enrolment.title == "Alcohol and you"
    assert enrolment.enrolment_id == who.enrolment_id
    modules = {m.module_id: (m.percent, m.complete) for m in enrolment.modules}
    assert modules["getting-started"] == (100, True)
    assert modules["your-plan"] == (0, False)
    assert 0 < enrolment.percent < 100


def test_the_record_of_nobody_is_refused(lookup: ParticipantLookup) -> None:
    with pytest.raises(OfficerError) as refused:
        lookup.record("nobody")
    assert refused.value.problem is Problem.NO_SUCH_PARTICIPANT


def test_searching_and_opening_log_no_name_and_resetting_logs_no_pin(
    lookup: ParticipantLookup,
    store: Store,
    clock: ManualClock,
    people: dict[str, Seeded],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    who = people["K7Q-00002"]
    lookup.find("Samira")
    lookup.record(who.participant_id)
    officer = OfficerService(store=store, clock=clock, hasher=FAST_HASHER)
    pin = officer.reset_pin(participant_id=who.participant_id)
    officer.unlock(participant_id=who.participant_id)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert who.participant_id in logged
    assert "Samira" not in logged
    assert pin not in logged
