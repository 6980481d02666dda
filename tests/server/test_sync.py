"""Enrolment, push and pull as a kiosk uses them, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.dialects import sqlite

from content_packs import authoring, pack
from sync_server import models, protocol
from sync_server.db import SessionFactory, sqlite_timestamp, sqlite_timestamp_of_utc
from sync_server.services import changes, packs
from sync_server.settings import Settings
from tests.support.device import Registration, TestDevice
from tests.support.journeys import whole_programme
from tests.support.world import PROGRAMME_ID, SAMPLE, World, make_world


@pytest.fixture
def world(settings: Settings, sessions: SessionFactory, tmp_path: Path) -> World:
    return make_world(settings, sessions, tmp_path)


@pytest.fixture
def kiosk(client: TestClient, world: World) -> TestDevice:
    device = TestDevice(client, "http://testserver", name="Custody kiosk 1")
    device.enrol(world.code("north-custody"))
    return device


def count(sessions: SessionFactory, table: type[models.Base]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(table)) or 0


# --- enrolment ---------------------------------------------------------------------------


def test_enrolment_answers_identity_scope_and_publisher_keys(
    client: TestClient, world: World
) -> None:
    device = TestDevice(client, "http://testserver")
    answer = device.enrol(world.code("north-library"))
    assert answer.key_id == answer.device_id
    assert (answer.force.id, answer.site.id) == ("north", "north-library")
    assert answer.publisher_keys == [world.publisher.public_key.to_base64()]
    assert abs(answer.server_time - datetime.now(UTC)) < timedelta(minutes=1)
    assert len(answer.access_code_prefix) == 3


def test_a_code_enrols_one_device_only(client: TestClient, world: World) -> None:
    code = world.code()
    TestDevice(client, "http://testserver").enrol(code)
    second = TestDevice(client, "http://testserver").enrol_request(code)
    assert second.status_code == 403
    assert second.json()["error"] == "enrolment_code_invalid"
    assert count(world.sessions, models.Device) == 1


def test_an_expired_code_is_refused(client: TestClient, world: World) -> None:
    code = world.code(lifetime=timedelta(seconds=-1))
    response = TestDevice(client, "http://testserver").enrol_request(code)
    assert response.status_code == 403
    assert count(world.sessions, models.Device) == 0


def test_guessing_codes_is_rate_limited(client: TestClient, world: World) -> None:
    device = TestDevice(client, "http://testserver")
    statuses = [device.enrol_request(f"WRONG-CODE-{i:04d}").status_code for i in range(10)]
    assert statuses == [403] * 10
    # Even the right code is refused now: the limit is on the client, not the code.
    blocked = device.enrol_request(world.code())
    assert blocked.status_code == 429
    assert blocked.json()["error"] == "rate_limited"
    assert count(world.sessions, models.Device) == 0


def test_codes_are_stored_only_as_hashes(world: World) -> None:
    code = world.code()
    with world.sessions() as s:
        stored = s.scalars(select(models.EnrolmentCode.code_hash)).all()
    assert code not in stored
    assert code.replace("-", "") not in stored


# --- push ---------------------------------------------------------------------------------


def test_registration_and_assignment_become_server_records(kiosk: TestDevice, world: World) -> None:
    reg = kiosk.register(programme_id=PROGRAMME_ID)
    results = kiosk.push_ok(reg.events)
    assert [r.status for r in results] == ["accepted", "accepted"]
    with world.sessions() as s:
        participant = s.get(models.Participant, reg.participant_id)
        enrolment = s.get(models.Enrolment, reg.enrolment_id)
    assert participant is not None
    assert participant.access_code == reg.access_code
    assert (participant.force_id, participant.site_id) == ("north", "north-custody")
    assert enrolment is not None
    assert enrolment.programme_version == 1
    assert enrolment.status == models.EnrolmentStatus.ASSIGNED


def test_a_replayed_batch_is_all_duplicates_and_changes_nothing(
    kiosk: TestDevice, world: World
) -> None:
    reg = kiosk.register(programme_id=PROGRAMME_ID)
    kiosk.push_ok(reg.events)
    before = (count(world.sessions, models.Event), count(world.sessions, models.Change))
    again = kiosk.push_ok(reg.events)
    assert [r.status for r in again] == ["duplicate", "duplicate"]
    assert (count(world.sessions, models.Event), count(world.sessions, models.Change)) == before


def test_a_stored_event_reads_back_exactly_as_sent(kiosk: TestDevice, world: World) -> None:
    reg = kiosk.register(programme_id=PROGRAMME_ID)
    kiosk.push_ok(reg.events)
    assert reg.enrolment_id is not None
    # A whole-second time (no microseconds) and non-ASCII data: the cases a hand-written
    # row format would get wrong.
    sent = kiosk.event(
        "reflection.submitted", participant_id=reg.participant_id,
        enrolment_id=reg.enrolment_id, step_id="what-happened",
        data={"text": "Zażółć gęślą jaźń — “quoted”", "words": 5, "nested": {"a": [1, 2.5]}},
        occurred_at=datetime(2026, 3, 29, 1, 30, 0, tzinfo=UTC),
    )  # fmt: skip
    kiosk.push_ok([sent])
    with world.sessions() as s:
        stored = s.get(models.Event, sent.id)
    assert stored is not None
    assert (stored.device_id, stored.seq, stored.participant_id, stored.enrolment_id) == (
        sent.device_id, sent.seq, sent.participant_id, sent.enrolment_id,
    )  # fmt: skip
    assert (stored.type, stored.step_id, stored.data) == (sent.type, sent.step_id, sent.data)
    assert stored.occurred_at == sent.occurred_at
    assert stored.occurred_at.tzinfo is not None
    assert stored.monotonic_ms == sent.monotonic_ms
    assert stored.content_hash == sent.content_hash()


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_the_fast_sqlite_row_stores_times_as_sqlalchemy_does(moment: datetime) -> None:
    column = models.Event.__table__.c.occurred_at
    dialect = sqlite.dialect()
    bind = column.type.dialect_impl(dialect).bind_processor(dialect)
    assert bind is not None
    assert sqlite_timestamp(moment) == bind(moment)
    # Ingest writes an event's time from the form its content hash digests.
    event = protocol.SyncEvent(
        id=str(uuid.uuid4()), device_id=str(uuid.uuid4()), seq=1,
        participant_id=str(uuid.uuid4()), type="session.started",
        occurred_at=moment, monotonic_ms=0,
    )  # fmt: skip
    assert sqlite_timestamp_of_utc(event.encoded().occurred_at) == bind(moment)


def test_same_id_other_content_is_a_final_conflict(kiosk: TestDevice, world: World) -> None:
    reg = kiosk.register(programme_id=PROGRAMME_ID)
    kiosk.push_ok(reg.events)
    assert reg.enrolment_id is not None
    viewed = kiosk.event(
        "step.viewed", participant_id=reg.participant_id, enrolment_id=reg.enrolment_id,
        step_id="welcome", data={"dwell_ms": 5000},
    )  # fmt: skip
    kiosk.push_ok([viewed])
    forged = viewed.model_copy(update={"data": {"dwell_ms": 999_000}})
    assert [r.status for r in kiosk.push_ok([forged])] == ["conflict"]
    with world.sessions() as s:
        stored = s.get(models.Event, viewed.id)
    assert stored is not None
    assert stored.data == {"dwell_ms": 5000}


def viewed(kiosk: TestDevice, reg: Registration, data: dict[str, Any]) -> protocol.SyncEvent:
    """A step.viewed event of the registered participant's enrolment."""
    return kiosk.event(
        "step.viewed",
        participant_id=reg.participant_id,
        enrolment_id=reg.enrolment_id,
        step_id="welcome",
        data=data,
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"blob": "x" * 70_000}, "data_too_large"),
        ({"nan": float("nan")}, "invalid_data: data cannot be encoded"),
    ],
)
def test_an_event_whose_data_cannot_be_stored_is_rejected_alone(
    kiosk: TestDevice, world: World, data: dict[str, Any], reason: str
) -> None:
    reg = kiosk.register(programme_id=PROGRAMME_ID)
    kiosk.push_ok(reg.events)
    bad = viewed(kiosk, reg, data)
    good = viewed(kiosk, reg, {"dwell_ms": 5000})
    results = kiosk.push_ok([bad, good])
    assert [(r.status, r.reason) for r in results] == [("rejected", reason), ("accepted", None)]
    with world.sessions() as s:
        assert s.get(models.Event, bad.id) is None
        assert s.get(models.Event, good.id) is not None


def test_an_unlock_names_the_officer_or_is_refused(kiosk: TestDevice, world: World) -> None:
    reg = kiosk.register(programme_id=PROGRAMME_ID)
    kiosk.push_ok(reg.events)
    named = kiosk.event("participant.unlocked", participant_id=reg.participant_id,
                        data={"officer": "olive"})  # fmt: skip
    older = kiosk.event("participant.unlocked", participant_id=reg.participant_id)
    odd = [
        kiosk.event("participant.unlocked", participant_id=reg.participant_id, data=data)
        for data in ({"officer": "Olive Smith"}, {"officer": 7}, {"note": "x"})
    ]
    results = kiosk.push_ok([named, older, *odd])
    assert [r.status for r in results] == ["accepted", "accepted", *["rejected"] * 3]
    assert all((r.reason or "").startswith("invalid_data: ") for r in results[2:])
    with world.sessions() as s:
        stored = s.get(models.Event, named.id)
        assert stored is not None
        assert stored.data == {"officer": "olive"}
        assert all(s.get(models.Event, e.id) is None for e in odd)


@pytest.mark.parametrize(("when", "due"), [(332435, 0), ("1700000000", "0")])
def test_a_time_sent_as_a_number_is_refused_not_read_as_unix_time(
    kiosk: TestDevice, world: World, when: int | str, due: int | str
) -> None:
    # pydantic alone would read 332435 (or "1700000000") as a Unix time and a due date of 0
    # (or "0") as 1970-01-01.
    reg = kiosk.register(programme_id=PROGRAMME_ID)
    kiosk.push_ok(reg.events)
    event = viewed(kiosk, reg, {"dwell_ms": 5000}).model_dump(mode="json")
    body = json.dumps({"events": [{**event, "occurred_at": when}]}).encode()
    response = kiosk.send(kiosk.signed("POST", "/api/v1/sync/push", body=body))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "events", 0, "occurred_at"]
    late = kiosk.event("enrolment.assigned", participant_id=reg.participant_id,
                       enrolment_id=str(uuid.uuid4()),
                       data={"programme_id": PROGRAMME_ID, "disposal_type": "community_resolution",
                             "due_date": due})  # fmt: skip
    (result,) = kiosk.push_ok([late])
    assert result.status == "rejected"
    assert (result.reason or "").startswith("invalid_data: ")
    with world.sessions() as s:
        assert s.get(models.Event, event["id"]) is None
        assert s.get(models.Event, late.id) is None


def test_a_lone_surrogate_is_not_json(kiosk: TestDevice, world: World) -> None:
    # RFC 8259 leaves "\ud800" alone undefined; the body is refused whole (a kiosk's journal
    # cannot hold one: it encodes every event's data canonically when it records it).
    reg = kiosk.register(programme_id=PROGRAMME_ID)
    kiosk.push_ok(reg.events)
    bad = viewed(kiosk, reg, {"text": "\ud800"})
    response = kiosk.push([bad])
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
    with world.sessions() as s:
        assert s.get(models.Event, bad.id) is None


def test_one_id_twice_in_a_batch_is_answered_per_event(kiosk: TestDevice, world: World) -> None:
    reg = kiosk.register(programme_id=PROGRAMME_ID)
    kiosk.push_ok(reg.events)
    first = viewed(kiosk, reg, {"dwell_ms": 5000})
    other = first.model_copy(update={"data": {"dwell_ms": 999_000}})
    results = kiosk.push_ok([first, first, other])
    assert [r.status for r in results] == ["accepted", "duplicate", "conflict"]
    with world.sessions() as s:
        stored = s.get(models.Event, first.id)
        assert stored is not None
        assert (stored.data, stored.content_hash) == (first.data, first.content_hash())


def test_a_whole_programme_completes_on_the_server(kiosk: TestDevice, world: World) -> None:
    reg = kiosk.register(programme_id=PROGRAMME_ID)
    assert reg.enrolment_id is not None
    events = list(reg.events)
    start = datetime.now(UTC) - timedelta(hours=1)
    for i, (step_id, (kind, data)) in enumerate(whole_programme(world.programme)):
        events.append(
            kiosk.event(
                kind,
                participant_id=reg.participant_id,
                enrolment_id=reg.enrolment_id,
                step_id=step_id,
                data=data,
                occurred_at=start + timedelta(minutes=i),
            )
        )
    half = len(events) // 2
    assert {r.status for r in kiosk.push_ok(events[:half])} == {"accepted"}
    with world.sessions() as s:
        enrolment = s.get(models.Enrolment, reg.enrolment_id)
        assert enrolment is not None
        assert enrolment.status == models.EnrolmentStatus.IN_PROGRESS
        assert 0 < enrolment.progress_percent < 100
    assert {r.status for r in kiosk.push_ok(events[half:])} == {"accepted"}
    with world.sessions() as s:
        enrolment = s.get(models.Enrolment, reg.enrolment_id)
        assert enrolment is not None
        assert enrolment.status == models.EnrolmentStatus.COMPLETE
        assert enrolment.progress_percent == 100
        assert enrolment.completed_at == events[-1].occurred_at
        assert enrolment.completion_received_at is not None
        assert enrolment.completion_received_at > enrolment.completed_at


def test_claims_the_rules_do_not_support_do_not_complete(kiosk: TestDevice, world: World) -> None:
    reg = kiosk.register(programme_id=PROGRAMME_ID)
    assert reg.enrolment_id is not None
    claims = [
        kiosk.event(
            "step.completed",
            participant_id=reg.participant_id,
            enrolment_id=reg.enrolment_id,
            step_id=step.id,
        )  # fmt: skip
        for step in world.programme.all_steps()
    ]
    claims.append(
        kiosk.event(
            "programme.completed",
            participant_id=reg.participant_id,
            enrolment_id=reg.enrolment_id,
        )
    )
    kiosk.push_ok(reg.events + claims)
    with world.sessions() as s:
        enrolment = s.get(models.Enrolment, reg.enrolment_id)
    assert enrolment is not None
    assert enrolment.status != models.EnrolmentStatus.COMPLETE


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("unknown_participant", "unknown_participant"),
        ("other_device_id", "device_mismatch"),
        ("foreign_access_code_prefix", "access_code_prefix"),
        ("unknown_programme", "unknown_programme"),
        ("enrolment_of_someone_else", "unknown_enrolment"),
    ],
)
def test_events_that_cannot_be_stored_are_rejected_with_a_reason(
    kiosk: TestDevice, world: World, case: str, reason: str
) -> None:
    reg = kiosk.register(programme_id=PROGRAMME_ID)
    kiosk.push_ok(reg.events)
    other = kiosk.register(programme_id=PROGRAMME_ID)
    kiosk.push_ok(other.events)
    if case == "unknown_participant":
        event = kiosk.event(
            "session.started", participant_id="00000000-0000-4000-8000-000000000000"
        )
    elif case == "other_device_id":
        event = kiosk.event("session.started", participant_id=reg.participant_id).model_copy(
            update={"device_id": "00000000-0000-4000-8000-000000000001"}
        )
    elif case == "foreign_access_code_prefix":
        fresh = kiosk.register()
        data = dict(fresh.events[0].data)
        data["access_code"] = "ZZZ-00001" if not reg.access_code.startswith("ZZZ") else "YYY-00001"
        event = fresh.events[0].model_copy(update={"data": data})
    elif case == "unknown_programme":
        fresh = kiosk.register(programme_id="no-such-programme")
        kiosk.push_ok(fresh.events[:1])
        event = fresh.events[1]
    else:
        assert other.enrolment_id is not None
        event = kiosk.event(
            "step.viewed", participant_id=reg.participant_id,
            enrolment_id=other.enrolment_id, step_id="welcome", data={"dwell_ms": 1},
        )  # fmt: skip
    events_before = count(world.sessions, models.Event)
    [result] = kiosk.push_ok([event])
    assert (result.status, result.reason) == ("rejected", reason)
    assert count(world.sessions, models.Event) == events_before


def test_a_device_cannot_touch_another_sites_participants(
    client: TestClient, kiosk: TestDevice, world: World
) -> None:
    reg = kiosk.register(programme_id=PROGRAMME_ID)
    kiosk.push_ok(reg.events)
    for site in ("north-library", "south-custody"):
        elsewhere = TestDevice(client, "http://testserver", name=site)
        elsewhere.enrol(world.code(site))
        [result] = elsewhere.push_ok(
            [elsewhere.event("login.failed", participant_id=reg.participant_id)]
        )
        assert (result.status, result.reason) == ("rejected", "out_of_scope")
        assert not [c for c in elsewhere.pull_all() if c.kind in ("participant", "enrolment")]


def test_five_wrong_pins_lock_the_participant_everywhere(
    client: TestClient, kiosk: TestDevice, world: World
) -> None:
    reg = kiosk.register()
    kiosk.push_ok(reg.events)
    second = TestDevice(client, "http://testserver", name="Custody kiosk 2")
    second.enrol(world.code("north-custody"))
    kiosk.push_ok([kiosk.event("login.failed", participant_id=reg.participant_id)] * 1)
    second.push_ok(
        [second.event("login.failed", participant_id=reg.participant_id) for _ in range(4)]
    )
    states = [protocol.change_data(c) for c in second.pull_all() if c.kind == "participant"]
    assert len(states) == 1
    state = states[0]
    assert isinstance(state, protocol.ParticipantState)
    assert state.locked
    assert state.failed_pin_attempts == 5


# --- pull ---------------------------------------------------------------------------------


def test_pull_pages_through_changes_and_never_sends_private_fields(
    kiosk: TestDevice, world: World
) -> None:
    regs = [kiosk.register(programme_id=PROGRAMME_ID) for _ in range(7)]
    for reg in regs:
        kiosk.push_ok(reg.events)
    pages: list[protocol.PullResponse] = []
    cursor = ""
    world_settings = world.settings
    object.__setattr__(world_settings, "pull_page_size", 3)  # small pages for the test
    while True:
        response = kiosk.pull(cursor)
        assert response.status_code == 200
        assert b"surname" not in response.content
        assert b"force_reference" not in response.content
        page = protocol.PullResponse.model_validate_json(response.content)
        pages.append(page)
        cursor = page.next_cursor
        if not page.more:
            break
    assert len(pages) > 2
    kinds = [c.kind for page in pages for c in page.changes]
    assert kinds.count("participant") == 7
    assert kinds.count("enrolment") == 7
    assert "catalogue" in kinds
    assert "settings" in kinds
    # Nothing new: an empty page that keeps the cursor.
    last = protocol.PullResponse.model_validate_json(kiosk.pull(cursor).content)
    assert (last.changes, last.next_cursor, last.more) == ([], cursor, False)


def test_pull_pages_interleave_site_force_and_scheme_changes_in_log_order(
    kiosk: TestDevice, world: World
) -> None:
    # Changes for this site, its whole force, the whole scheme, another site and another
    # force, interleaved; small pages must give exactly the first three, in log order.
    scopes = [
        ("north", "north-custody", True),
        ("north", None, True),
        ("south", "south-custody", False),
        (None, None, True),
        ("north", "north-library", False),
        ("south", None, False),
    ]
    expected: list[str] = []
    now = datetime.now(UTC)
    with world.sessions.begin() as s:
        for i in range(30):
            force_id, site_id, mine = scopes[i % len(scopes)]
            entity_id = f"scope-test-{i:02d}"
            changes.record_change(
                s, kind=models.ChangeKind.PARTICIPANT, entity_id=entity_id,
                force_id=force_id, site_id=site_id, at=now,
            )  # fmt: skip
            s.flush()
            if mine:
                expected.append(entity_id)
    object.__setattr__(world.settings, "pull_page_size", 4)
    seen: list[str] = []
    cursors: list[int] = []
    cursor = ""
    while True:
        page = protocol.PullResponse.model_validate_json(kiosk.pull(cursor).content)
        seen += [c.id for c in page.changes if c.id.startswith("scope-test-")]
        cursors += [c.seq for c in page.changes]
        cursor = page.next_cursor
        if not page.more:
            break
    assert seen == expected
    assert cursors == sorted(cursors)


def test_catalogue_entry_points_at_a_downloadable_pack(kiosk: TestDevice) -> None:
    entries = [protocol.change_data(c) for c in kiosk.pull_all() if c.kind == "catalogue"]
    assert len(entries) == 1
    entry = entries[0]
    assert isinstance(entry, protocol.CatalogueEntry)
    assert (entry.pack_id, entry.version, entry.family) == (PROGRAMME_ID, 1, PROGRAMME_ID)
    response = kiosk.send(kiosk.signed("GET", entry.url))
    assert response.status_code == 200
    assert len(response.content) == entry.size


def test_language_versions_of_a_programme_share_a_family_in_the_catalogue(
    kiosk: TestDevice, world: World, tmp_path: Path
) -> None:
    polish = authoring.load_source(SAMPLE.with_name(f"{PROGRAMME_ID}-pl"))
    built = pack.build(
        polish, tmp_path / "pl.pack", sign_key=world.publisher,
        recipients=[packs.escrow_recipient(world.settings)],
    )  # fmt: skip
    with world.sessions.begin() as s:
        packs.publish(
            s, world.settings, pack_path=built.pack_path,
            signature_text=built.signature_path.read_text("utf-8"), forces=None,
            now=datetime.now(UTC),
        )  # fmt: skip
    entries = [protocol.change_data(c) for c in kiosk.pull_all() if c.kind == "catalogue"]
    versions = {
        (e.family, e.language, e.pack_id) for e in entries if isinstance(e, protocol.CatalogueEntry)
    }
    assert versions == {
        (PROGRAMME_ID, "en", PROGRAMME_ID),
        (PROGRAMME_ID, "pl", f"{PROGRAMME_ID}-pl"),
    }


def test_a_signed_request_records_when_the_device_was_last_seen(
    kiosk: TestDevice, world: World
) -> None:
    before = datetime.now(UTC)
    kiosk.pull_all()
    with world.sessions() as s:
        device = s.get(models.Device, kiosk.device_id)
    assert device is not None
    assert device.last_seen_at is not None
    assert device.last_seen_at >= before - timedelta(seconds=1)
