"""Push ingest: store each event exactly once, refuse what is out of scope, apply its effects."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sync_server import models, protocol
from sync_server.db import sqlite_timestamp, sqlite_timestamp_of_utc
from sync_server.services import effects
from sync_server.services.changes import record_changes, record_events

# Serialises change-log writers on PostgreSQL so change sequence numbers commit in order
# and a pull never skips a row committed late with a lower number.
CHANGE_LOG_LOCK = 727_100


@dataclass(slots=True)
class _Batch:
    """What the batch knows as it is checked, event by event, in device order."""

    device: models.Device
    # The device's id and (force, site), read once: ORM attribute reads cost, per event.
    device_id: str = field(init=False)
    home: tuple[str, str] = field(init=False)
    participants: dict[str, tuple[str, str]] = field(default_factory=dict)
    enrolments: dict[str, str] = field(default_factory=dict)
    codes: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.device_id = self.device.id
        self.home = (self.device.force_id, self.device.site_id)


def push(
    s: Session,
    *,
    device: models.Device,
    events: Sequence[protocol.SyncEvent],
    received_at: datetime,
    programmes: effects.Programmes,
) -> list[Outcome]:
    """Ingest one batch in the caller's transaction; answers one result per event, in order."""
    locked = _lock_for_writing(s)
    encoded = [_encode(e) for e in events]
    existing = _existing_hashes(s, {e.id for e in events})
    batch = _load_scope(s, device, events)
    results: list[Outcome | None] = [None] * len(events)
    candidates: list[tuple[int, protocol.SyncEvent, protocol.EncodedEvent]] = []
    seen: dict[str, str] = {}
    for i in sorted(range(len(events)), key=lambda i: (events[i].seq, events[i].id)):
        event, coded = events[i], encoded[i]
        if coded is None or not coded.fits():
            why = "data_too_large" if coded else "invalid_data: data cannot be encoded"
            results[i] = _result(event.id, "rejected", why)
            continue
        known = seen.get(event.id) or existing.get(event.id)
        if known is not None:
            results[i] = _repeat(event.id, same=known == coded.content_hash)
            continue
        reason = _refusal(s, batch, event)
        if reason is not None:
            results[i] = _result(event.id, "rejected", reason)
            continue
        seen[event.id] = coded.content_hash
        candidates.append((i, event, coded))
    inserted = _insert(s, [(e, c) for _, e, c in candidates], received_at, locked=locked)
    stored: list[protocol.SyncEvent] = []
    for i, event, coded in candidates:
        if inserted is None or event.id in inserted:
            stored.append(event)
            results[i] = _result(event.id, "accepted")
        else:  # another request stored the same id between our read and our insert
            results[i] = _late_duplicate(s, event.id, coded.content_hash)
    if stored:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHANGE_LOG_LOCK})
        touched = effects.apply(
            s, device=device, events=stored, received_at=received_at, programmes=programmes
        )
        record_changes(s, touched, force_id=device.force_id, site_id=device.site_id, at=received_at)
        # Other kiosks of the site receive these events on their next pull, so a participant
        # can carry on where they stopped on any of them.
        record_events(s, device=device, events=stored, at=received_at)
    return [r for r in results if r is not None]


def _encode(event: protocol.SyncEvent) -> protocol.EncodedEvent | None:
    """The event's data as canonical JSON and its content hash; None if data cannot be
    encoded (a lone surrogate has no UTF-8 form)."""
    try:
        return event.encoded()
    except ValueError:
        return None


def _lock_for_writing(s: Session) -> bool:
    """On SQLite, take the write lock before the first read (BEGIN IMMEDIATE), so no other
    writer can store an id between our read of the known ids and our insert; True if held.

    The driver opens SQLite transactions lazily, at the first write, so without this the read
    would see a snapshot that the insert can no longer trust. PostgreSQL allows concurrent
    writers, so there the insert itself reports what it stored.
    """
    connection = s.connection()
    if connection.dialect.name != "sqlite":
        return False
    driver = connection.connection.driver_connection
    if driver is None or driver.in_transaction:
        return False  # the caller already began; the insert will report what it stored
    connection.exec_driver_sql("BEGIN IMMEDIATE")
    return True


def _existing_hashes(s: Session, ids: set[str]) -> dict[str, str]:
    connection = s.connection()
    if connection.dialect.name == "sqlite":
        # A thousand ids: the driver binds them as they are, where SQLAlchemy would first
        # expand and process a thousand parameters.
        marks = ", ".join("?" * len(ids))
        rows = connection.exec_driver_sql(
            f"SELECT id, content_hash FROM events WHERE id IN ({marks})", tuple(ids)
        )
    else:
        rows = connection.execute(
            select(models.Event.id, models.Event.content_hash).where(models.Event.id.in_(ids))
        )
    return {row[0]: row[1] for row in rows}


def _late_duplicate(s: Session, event_id: str, content_hash: str) -> Outcome:
    known = s.scalar(select(models.Event.content_hash).where(models.Event.id == event_id))
    return _repeat(event_id, same=known == content_hash)


def _repeat(event_id: str, *, same: bool) -> Outcome:
    """A second sight of an id: the same content is a duplicate, other content a conflict."""
    return _result(event_id, "duplicate" if same else "conflict")


class Outcome(NamedTuple):
    """One event's answer, shaped as `Outcome` on the wire.

    A plain tuple: the id was validated on the way in and the status is one of the
    literals, and building a thousand pydantic models per batch was a tenth of its time."""

    id: str
    status: protocol.EventStatus
    reason: str | None = None


def _result(event_id: str, status: protocol.EventStatus, reason: str | None = None) -> Outcome:
    # The wire allows reasons of up to 500 characters; a validation message can be longer.
    return Outcome(event_id, status, None if reason is None else reason[:500])


def _load_scope(s: Session, device: models.Device, events: Iterable[protocol.SyncEvent]) -> _Batch:
    batch = _Batch(device=device)
    participant_ids = {e.participant_id for e in events}
    connection = s.connection()
    for pid, force_id, site_id in connection.execute(
        select(
            models.Participant.id, models.Participant.force_id, models.Participant.site_id
        ).where(models.Participant.id.in_(participant_ids))
    ):
        batch.participants[pid] = (force_id, site_id)
    enrolment_ids = {e.enrolment_id for e in events if e.enrolment_id}
    for eid, pid in connection.execute(
        select(models.Enrolment.id, models.Enrolment.participant_id).where(
            models.Enrolment.id.in_(enrolment_ids)
        )
    ):
        batch.enrolments[eid] = pid
    return batch


def _refusal(s: Session, batch: _Batch, event: protocol.SyncEvent) -> str | None:
    """Why `event` cannot be stored, or None; updates the batch's view when it can."""
    if event.device_id != batch.device_id:
        return "device_mismatch"
    if event.type == "participant.registered":
        return _check_registration(s, batch, event)
    scope = batch.participants.get(event.participant_id)
    if scope is None:
        return "unknown_participant"
    if scope != batch.home:
        return "out_of_scope"
    if event.type == "enrolment.assigned":
        return _check_assignment(s, batch, event)
    if event.type in effects.PARTICIPANT_EVENTS:
        try:
            if event.type in {"pin.changed", "pin.reset"}:
                protocol.pin_data(event)
            elif event.type == "participant.unlocked":
                protocol.unlock_data(event)
        except ValueError as exc:
            return f"invalid_data: {exc}"
        return None
    if event.enrolment_id is None:
        return "enrolment_required"
    if batch.enrolments.get(event.enrolment_id) != event.participant_id:
        return "unknown_enrolment"
    return None


def _check_registration(s: Session, batch: _Batch, event: protocol.SyncEvent) -> str | None:
    try:
        data = protocol.registration_data(event)
    except ValueError as exc:
        return f"invalid_data: {exc}"
    device = batch.device
    if event.participant_id in batch.participants:
        return "already_registered"
    if not data.access_code.startswith(device.access_code_prefix + "-"):
        return "access_code_prefix"
    taken = data.access_code in batch.codes or s.scalar(
        select(models.Participant.id).where(
            models.Participant.force_id == device.force_id,
            models.Participant.access_code == data.access_code,
        )
    )
    if taken:
        return "access_code_taken"
    batch.codes.add(data.access_code)
    batch.participants[event.participant_id] = (device.force_id, device.site_id)
    return None


def _check_assignment(s: Session, batch: _Batch, event: protocol.SyncEvent) -> str | None:
    try:
        data = protocol.assignment_data(event)
    except ValueError as exc:
        return f"invalid_data: {exc}"
    if event.enrolment_id is None:
        return "enrolment_required"
    if event.enrolment_id in batch.enrolments:
        return "already_assigned"
    if (
        effects.current_release(s, force_id=batch.device.force_id, pack_id=data.programme_id)
        is None
    ):
        return "unknown_programme"
    batch.enrolments[event.enrolment_id] = event.participant_id
    return None


def _insert(
    s: Session,
    events: Sequence[tuple[protocol.SyncEvent, protocol.EncodedEvent]],
    received_at: datetime,
    *,
    locked: bool,
) -> set[str] | None:
    """Store `events`; answers the ids stored, or None when that is every one of them."""
    if not events:
        return None
    if locked:
        # Under SQLite's write lock the ids read a moment ago are all there is: every
        # candidate is stored, so a plain executemany (no RETURNING) is exact.
        _sqlite_executemany(s, events, received_at)
        return None
    rows: list[dict[str, Any]] = [
        {
            "id": e.id,
            "device_id": e.device_id,
            "seq": e.seq,
            "participant_id": e.participant_id,
            "enrolment_id": e.enrolment_id,
            "type": e.type,
            "step_id": e.step_id,
            "data": e.data,
            "occurred_at": e.occurred_at,
            "monotonic_ms": e.monotonic_ms,
            "received_at": received_at,
            "content_hash": coded.content_hash,
        }
        for e, coded in events
    ]
    table = cast(Table, models.Event.__table__)
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id)
    return set(s.scalars(statement, rows))


_EVENT_COLUMNS = (
    "id, device_id, seq, participant_id, enrolment_id, type, step_id, data, occurred_at, "
    "monotonic_ms, received_at, content_hash"
)
_SQLITE_INSERT = (
    f"INSERT INTO events ({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO NOTHING"
)


def _sqlite_executemany(
    s: Session,
    events: Sequence[tuple[protocol.SyncEvent, protocol.EncodedEvent]],
    received_at: datetime,
) -> None:
    """The batch in one driver executemany: the rows are already validated, so SQLAlchemy's
    per-row parameter processing (most of an ORM bulk insert's cost) has nothing to add.
    `data` is stored as its canonical JSON, the very bytes the content hash digests."""
    received = sqlite_timestamp(received_at)
    rows = [
        (
            e.id,
            e.device_id,
            e.seq,
            e.participant_id,
            e.enrolment_id,
            e.type,
            e.step_id,
            coded.data_json.decode(),
            sqlite_timestamp_of_utc(coded.occurred_at),
            e.monotonic_ms,
            received,
            coded.content_hash,
        )
        for e, coded in events
    ]
    s.connection().exec_driver_sql(_SQLITE_INSERT, rows)
