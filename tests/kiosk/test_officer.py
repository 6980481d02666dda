"""Officer services offline: registration journals what the server expects; PIN reset; unlock."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from content_packs import age, authoring, pack, signing
from kiosk_app.core.auth import LoginOutcome, LoginService, pin_problem
from kiosk_app.core.clock import ManualClock
from kiosk_app.core.officer import (
    Credentials,
    DeviceSetup,
    OfficerError,
    OfficerService,
    Problem,
    temporary_pin,
)
from kiosk_app.store import keys, repos
from kiosk_app.store.db import Store, open_store
from kiosk_app.store.models import CatalogueEntry, JournalEvent
from kiosk_app.sync.push import wire_event
from sync_server import protocol
from tests.support.kiosk import seed_officer

SAMPLE = Path(__file__).resolve().parents[2] / "content_packs" / "library" / "alcohol-and-you"
DEVICE_ID = "7d1c0f3a-0000-4000-8000-000000000007"
PREFIX = "K7Q"
HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
DUE = date(2026, 3, 30)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str, str]:
    identity = age.X25519Identity.generate()
    publisher = signing.SecretKey.generate()
    out = tmp_path_factory.mktemp("pack") / "alcohol-and-you-1.pack"
    result = pack.build(
        authoring.load_source(SAMPLE), out, sign_key=publisher, recipients=[identity.recipient]
    )
    signature = result.signature_path.read_text("utf-8")
    return out, signature, identity.to_str(), publisher.public_key.to_base64()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(tmp_path: Path, built: tuple[Path, str, str, str], clock: ManualClock) -> Iterator[Store]:
    path, signature, identity, publisher = built
    data = tmp_path / "kiosk"
    with open_store(data, key_store=keys.FileKeyStore(data / keys.KEY_FILE_NAME)) as opened:
        (data / "packs").mkdir()
        shutil.copyfile(path, data / "packs" / path.name)
        with opened.unit() as s:
            device = repos.device(s)
            device.device_id = DEVICE_ID
            device.access_code_prefix = PREFIX
            device.x25519_identity = identity
            device.publisher_keys = [publisher]
            repos.install_pack(
                s,
                pack_id="alcohol-and-you",
                version=1,
                path=f"packs/{path.name}",
                signature=signature,
                sha256="0" * 64,
                installed_at=clock.now(),
            )
        yield opened


@pytest.fixture
def officer(store: Store, clock: ManualClock) -> OfficerService:
    return OfficerService(store=store, clock=clock, hasher=HASHER)


@pytest.fixture
def login(store: Store, clock: ManualClock) -> LoginService:
    return LoginService(store=store, clock=clock, hasher=HASHER)


def _register(service: OfficerService, /, **changes: object) -> Credentials:
    fields: dict[str, object] = {
        "first_name": "Sam",
        "force_reference": "NC/2026/0042",
        "programme_id": "alcohol-and-you",
        "disposal_type": "conditional_caution",
        "due_date": DUE,
        "conditions": "Finish by the due date.",
    }
    fields.update(changes)
    return service.register(**fields)  # type: ignore[arg-type]


def _journal(store: Store) -> list[JournalEvent]:
    with store.unit() as s:
        return list(s.scalars(select(JournalEvent).order_by(JournalEvent.seq)))


def test_registration_journals_exactly_what_the_server_ingests(
    officer: OfficerService, store: Store, login: LoginService
) -> None:
    slip = officer.register(
        first_name="Sam",
        force_reference="NC/2026/0042",
        programme_id="alcohol-and-you",
        disposal_type="conditional_caution",
        due_date=DUE,
    )
    assert re.fullmatch(protocol.ACCESS_CODE_PATTERN, slip.access_code)
    assert slip.access_code.startswith(f"{PREFIX}-")
    registered, assigned = _journal(store)
    assert (registered.type, assigned.type) == ("participant.registered", "enrolment.assigned")
    registration = protocol.registration_data(wire_event(registered, device_id=DEVICE_ID))
    assignment = protocol.assignment_data(wire_event(assigned, device_id=DEVICE_ID))
    assert (registration.access_code, registration.first_name) == (slip.access_code, "Sam")
    assert (assignment.programme_id, assignment.due_date) == ("alcohol-and-you", DUE)
    assert assigned.enrolment_id == slip.enrolment_id
    assert registered.participant_id == assigned.participant_id == slip.participant_id
    assert slip.temporary_pin not in json.dumps([registered.data, assigned.data])
    with store.unit() as s:
        enrolment = repos.enrolment(s, slip.enrolment_id)
        assert enrolment is not None
        assert (enrolment.programme_version, enrolment.status) == (1, "assigned")
    result = login.attempt(access_code=slip.access_code, pin=slip.temporary_pin)
    assert result.ok
    assert result.must_choose_pin


def _offer_installed_pack(store: Store, *, language: str) -> None:
    """The catalogue entry a pull would have stored for the installed sample pack."""
    with store.unit() as s:
        s.add(
            CatalogueEntry(
                pack_id="alcohol-and-you", version=1, title="Alcohol and you",
                language=language, family="alcohol-and-you", size=1, sha256="0" * 64,
                signature="", url="https://packs.invalid/alcohol-and-you-1.pack",
            )
        )  # fmt: skip


def _registered_language(store: Store, participant_id: str) -> str:
    """The participant's language, as stored here and as the journal tells the server."""
    registered = protocol.registration_data(wire_event(_journal(store)[-2], device_id=DEVICE_ID))
    with store.unit() as s:
        person = repos.participant(s, participant_id)
        assert person is not None
        assert registered.language == person.language
        return person.language


@pytest.mark.parametrize(
    ("offered", "chosen", "stored"),
    [
        ("pl", None, "pl"),  # by default, the programme's own language
        ("en", None, "en"),
        ("en", "pl", "pl"),  # the officer's choice wins
        (None, None, "en"),  # no catalogue entry (yet): English
    ],
)
def test_a_participant_is_registered_in_the_language_they_read(
    officer: OfficerService, store: Store, offered: str | None, chosen: str | None, stored: str
) -> None:
    if offered is not None:
        _offer_installed_pack(store, language=offered)
    slip = _register(officer, language=chosen)
    assert _registered_language(store, slip.participant_id) == stored
    expected = ["en"] if offered is None else sorted({"en", offered})
    assert officer.languages() == expected


def test_access_codes_count_up_and_skip_codes_already_here(
    officer: OfficerService, store: Store
) -> None:
    with store.unit() as s:
        repos.add_participant(
            s,
            participant_id="pulled-1",
            first_name="X",
            access_code=f"{PREFIX}-00001",
            pin_hash=None,
        )
    codes = [_register(officer).access_code for _ in range(3)]
    assert codes == [f"{PREFIX}-00002", f"{PREFIX}-00003", f"{PREFIX}-00004"]


@pytest.mark.parametrize(
    ("changes", "message", "problem", "field"),
    [
        ({"programme_id": "anger-management"}, "not on this kiosk yet", "programme-missing", None),
        ({"due_date": date(2026, 3, 1)}, "due date is in the past", "due-date-past", None),
        ({"first_name": "Sam\x07"}, "Please check first name", "invalid-field", "first_name"),
        (
            {"force_reference": ""},
            "Please check force reference",
            "invalid-field",
            "force_reference",
        ),
        (
            {"disposal_type": "caution"},
            "Please check disposal type",
            "invalid-field",
            "disposal_type",
        ),
    ],
)
def test_bad_registrations_are_refused_in_plain_words_and_journal_nothing(
    officer: OfficerService,
    store: Store,
    changes: dict[str, object],
    message: str,
    problem: str,
    field: str | None,
) -> None:
    with pytest.raises(OfficerError, match=message) as refused:
        _register(officer, **changes)
    assert (refused.value.problem, refused.value.field) == (Problem(problem), field)
    assert _journal(store) == []


def test_an_unenrolled_kiosk_cannot_register(officer: OfficerService, store: Store) -> None:
    with store.unit() as s:
        repos.device(s).access_code_prefix = None
    with pytest.raises(OfficerError, match="Enrol this kiosk"):
        _register(officer)


def test_a_pin_reset_gives_a_new_temporary_pin_and_unlocks(
    officer: OfficerService, store: Store, login: LoginService, clock: ManualClock
) -> None:
    slip = _register(officer)
    with store.unit() as s:
        person = repos.participant(s, slip.participant_id)
        assert person is not None
        person.locked = True
        person.failed_pin_attempts = 5
    new_pin = officer.reset_pin(participant_id=slip.participant_id)
    last = _journal(store)[-1]
    assert last.type == "pin.reset"
    assert HASHER.verify(protocol.pin_data(wire_event(last, device_id=DEVICE_ID)).pin_hash, new_pin)
    old = login.attempt(access_code=slip.access_code, pin=slip.temporary_pin)
    assert not old.ok
    clock.advance(60)  # past the delay after a wrong PIN
    fresh = login.attempt(access_code=slip.access_code, pin=new_pin)
    assert fresh.ok
    assert fresh.must_choose_pin


def test_unlock_clears_the_lock_and_journals_it(
    officer: OfficerService, store: Store, login: LoginService
) -> None:
    slip = _register(officer)
    with store.unit() as s:
        person = repos.participant(s, slip.participant_id)
        assert person is not None
        person.locked = True
    locked = login.attempt(access_code=slip.access_code, pin=slip.temporary_pin)
    assert locked.outcome is LoginOutcome.LOCKED
    officer.unlock(participant_id=slip.participant_id)
    assert _journal(store)[-1].type == "participant.unlocked"
    assert login.attempt(access_code=slip.access_code, pin=slip.temporary_pin).ok


def test_what_an_officer_does_names_them_on_the_record_and_nothing_else_does(
    officer: OfficerService, store: Store
) -> None:
    slip = _register(officer, officer="olive")
    officer.reset_pin(participant_id=slip.participant_id, officer="olive")
    officer.unlock(participant_id=slip.participant_id, officer="pat.o-neil")
    anonymous = _register(officer, first_name="Jo")  # no one signed in: no name, no key
    officer.unlock(participant_id=anonymous.participant_id)
    events = [wire_event(e, device_id=DEVICE_ID) for e in _journal(store)]
    named = [(e.type, e.data.get("officer")) for e in events]
    assert named == [
        ("participant.registered", "olive"),
        ("enrolment.assigned", "olive"),
        ("pin.reset", "olive"),
        ("participant.unlocked", "pat.o-neil"),
        ("participant.registered", None),
        ("enrolment.assigned", None),
        ("participant.unlocked", None),
    ]
    assert all("officer" not in e.data for e in events[4:])
    # Each one is what the server checks it against.
    assert protocol.registration_data(events[0]).officer == "olive"
    assert protocol.assignment_data(events[1]).officer == "olive"
    assert protocol.pin_data(events[2]).officer == "olive"
    assert protocol.unlock_data(events[3]).officer == "pat.o-neil"


def test_unknown_participants_are_refused(officer: OfficerService, store: Store) -> None:
    with pytest.raises(OfficerError, match="No such participant") as unlocking:
        officer.unlock(participant_id="nobody")
    with pytest.raises(OfficerError, match="No such participant") as resetting:
        officer.reset_pin(participant_id="nobody")
    assert unlocking.value.problem is resetting.value.problem is Problem.NO_SUCH_PARTICIPANT
    assert _journal(store) == []


@pytest.mark.parametrize(
    ("enrolled", "officers", "participants", "console_needs_enrolment", "blank"),
    [
        (False, 0, 0, True, True),  # fresh, or wiped: enrolment at start
        (False, 0, 3, True, False),  # nobody can sign in, but people are here
        (False, 1, 0, False, False),  # an officer can sign in first
        (True, 0, 0, False, False),  # enrolled: officers arrive with the sync
    ],
)
def test_who_could_use_the_kiosk_decides_where_the_console_starts(
    enrolled: bool, officers: int, participants: int, console_needs_enrolment: bool, blank: bool
) -> None:
    setup = DeviceSetup(enrolled, officers, participants)
    assert (setup.console_needs_enrolment, setup.blank) == (console_needs_enrolment, blank)


def test_device_setup_counts_what_is_on_the_kiosk(officer: OfficerService, store: Store) -> None:
    assert officer.device_setup() == DeviceSetup(enrolled=True, officers=0, participants=0)
    _register(officer)
    seed_officer(store)
    with store.unit() as s:
        repos.device(s).device_id = None
    assert officer.device_setup() == DeviceSetup(enrolled=False, officers=1, participants=1)


def test_temporary_pins_are_six_digits_the_kiosk_would_accept() -> None:
    pins = [temporary_pin() for _ in range(300)]
    assert all(re.fullmatch(r"[0-9]{6}", p) and pin_problem(p, p) is None for p in pins)
    assert len(set(pins)) > 290
