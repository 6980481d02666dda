"""What stored events change: participants, enrolments, PIN lockout, and official progress."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, tuple_
from sqlalchemy.orm import Session

from content_packs.model import Event as RuleEvent
from content_packs.model import Programme
from content_packs.progress import ProgrammeProgress, progress
from sync_server import models, protocol

# After this many wrong PINs in a row the participant is locked out on every device.
MAX_FAILED_PINS = 5

PARTICIPANT_EVENTS = frozenset(
    {
        "pin.changed",
        "pin.reset",
        "participant.unlocked",
        "login.failed",
        "session.started",
        "session.ended",
    }
)

Touched = tuple[models.ChangeKind, str]


def current_release(s: Session, *, force_id: str, pack_id: str) -> models.PackRelease | None:
    """The newest release of `pack_id` in the force's catalogue that is not retired."""
    return s.scalar(
        select(models.PackRelease)
        .join(models.CatalogueEntry, models.CatalogueEntry.pack == models.PackRelease.id)
        .where(
            models.CatalogueEntry.force_id == force_id,
            models.PackRelease.pack_id == pack_id,
            models.PackRelease.retired_at.is_(None),
        )
        .order_by(models.PackRelease.version.desc())
        .limit(1)
    )


def apply(
    s: Session,
    *,
    device: models.Device,
    events: Sequence[protocol.SyncEvent],
    received_at: datetime,
    programmes: Programmes,
) -> list[Touched]:
    """Apply newly stored events, given in device order (seq, then id, as ingest checks
    them); return the entities they changed."""
    touched: dict[Touched, None] = {}
    progress_events: dict[str, list[protocol.SyncEvent]] = defaultdict(list)
    for event in events:
        if event.type == "participant.registered":
            _register(s, device, event)
            touched[(models.ChangeKind.PARTICIPANT, event.participant_id)] = None
        elif event.type == "enrolment.assigned":
            _assign(s, device, event)
            touched[(models.ChangeKind.ENROLMENT, _require(event.enrolment_id))] = None
        elif event.type in PARTICIPANT_EVENTS and _participant_event(s, event):
            touched[(models.ChangeKind.PARTICIPANT, event.participant_id)] = None
        if event.enrolment_id and event.type not in PARTICIPANT_EVENTS:
            progress_events[event.enrolment_id].append(event)
    for enrolment_id in recompute_progress(
        s, new_events=progress_events, received_at=received_at, programmes=programmes
    ):
        touched[(models.ChangeKind.ENROLMENT, enrolment_id)] = None
    return list(touched)


def _require(value: str | None) -> str:
    assert value is not None  # checked before the event was stored
    return value


def _register(s: Session, device: models.Device, event: protocol.SyncEvent) -> None:
    data = protocol.registration_data(event)
    s.add(
        models.Participant(
            id=event.participant_id,
            force_id=device.force_id,
            site_id=device.site_id,
            first_name=data.first_name,
            force_reference=data.force_reference,
            access_code=data.access_code,
            pin_hash=data.pin_hash,
            pin_must_change=True,
            failed_pin_attempts=0,
            language=data.language,
            accessibility=dict(data.accessibility),
            created_at=event.occurred_at,
            created_by_device=device.id,
        )
    )
    s.flush()


def _assign(s: Session, device: models.Device, event: protocol.SyncEvent) -> None:
    data = protocol.assignment_data(event)
    release = current_release(s, force_id=device.force_id, pack_id=data.programme_id)
    s.add(
        models.Enrolment(
            id=_require(event.enrolment_id),
            participant_id=event.participant_id,
            force_id=device.force_id,
            site_id=device.site_id,
            programme_id=data.programme_id,
            programme_version=release.version if release else None,
            disposal_type=models.DisposalType(data.disposal_type),
            conditions=data.conditions,
            due_date=data.due_date,
            status=models.EnrolmentStatus.ASSIGNED,
            progress_percent=0,
            assigned_at=event.occurred_at,
            created_by_device=device.id,
        )
    )
    s.flush()


def _participant_event(s: Session, event: protocol.SyncEvent) -> bool:
    participant = s.get(models.Participant, event.participant_id)
    if participant is None:
        return False
    if event.type == "pin.changed":
        participant.pin_hash = protocol.pin_data(event).pin_hash
        participant.pin_must_change = False
    elif event.type in {"pin.reset", "participant.unlocked"}:
        participant.failed_pin_attempts = 0
        participant.locked_at = None
        if event.type == "pin.reset":
            participant.pin_hash = protocol.pin_data(event).pin_hash
            participant.pin_must_change = True
    elif event.type == "login.failed":
        participant.failed_pin_attempts += 1
        if participant.failed_pin_attempts >= MAX_FAILED_PINS and participant.locked_at is None:
            participant.locked_at = event.occurred_at
    elif event.type == "session.started" and participant.locked_at is None:
        if participant.failed_pin_attempts == 0:
            return False
        participant.failed_pin_attempts = 0
    else:
        return False
    return True


class Programmes:
    """Parsed programmes by (pack_id, version): a published release never changes, so each
    manifest is validated once per process instead of once per enrolment per push."""

    def __init__(self) -> None:
        self._parsed: dict[tuple[str, int], Programme] = {}

    def of(self, s: Session, keys: Collection[tuple[str, int]]) -> dict[tuple[str, int], Programme]:
        """The programme of each release in `keys` that exists; one query for those not cached."""
        missing = [key for key in keys if key not in self._parsed]
        if missing:
            rows = s.execute(
                select(
                    models.PackRelease.pack_id,
                    models.PackRelease.version,
                    models.PackRelease.manifest,
                ).where(tuple_(models.PackRelease.pack_id, models.PackRelease.version).in_(missing))
            )
            for pack_id, version, manifest in rows:
                # Concurrent requests may both parse a release; either result is the same.
                self._parsed[(pack_id, version)] = Programme.model_validate(manifest["programme"])
        return {key: self._parsed[key] for key in keys if key in self._parsed}


def recompute_progress(
    s: Session,
    *,
    new_events: Mapping[str, Sequence[protocol.SyncEvent]],
    received_at: datetime,
    programmes: Programmes,
) -> list[str]:
    """Official status of each enrolment in `new_events` (enrolment id: its events just stored),
    from every stored event and the signed manifest; answers the enrolments that changed."""
    found = {
        e.id: e
        for e in s.scalars(
            select(models.Enrolment).where(models.Enrolment.id.in_(list(new_events)))
        )
    }
    # In the order the events named them, so the change log is written in a stable order.
    due = [
        e
        for e in (found[i] for i in new_events if i in found)
        if e.programme_version is not None and not still_complete(e.completed_at, new_events[e.id])
    ]
    if not due:
        return []
    parsed = programmes.of(s, {(e.programme_id, _require_version(e)) for e in due})
    stored = _rule_events(s, [e.id for e in due])
    changed: list[str] = []
    for enrolment in due:
        programme = parsed.get((enrolment.programme_id, _require_version(enrolment)))
        if programme is None:
            continue
        events = stored.get(enrolment.id, [])
        if _record(enrolment, progress(programme, events), events, received_at):
            changed.append(enrolment.id)
    return changed


def still_complete(completed_at: datetime | None, new_events: Iterable[protocol.SyncEvent]) -> bool:
    """Whether the stored result stands without a recompute: the enrolment is complete and
    every new event occurred strictly after it completed. Every rule is monotone in
    time-prefixes, so events after `completed_at` can neither un-complete the programme nor
    move the earliest complete prefix; an event at or before it could (a quiz attempt at the
    same instant with a smaller id displaces the first claim on that attempt number)."""
    return completed_at is not None and all(e.occurred_at > completed_at for e in new_events)


def _require_version(enrolment: models.Enrolment) -> int:
    assert enrolment.programme_version is not None  # filtered out before
    return enrolment.programme_version


def _rule_events(s: Session, enrolment_ids: Sequence[str]) -> dict[str, list[RuleEvent]]:
    """Every stored event of these enrolments, in one query, as the rules read them."""
    connection = s.connection()
    rows: Iterable[tuple[str, str, str, str | None, datetime, dict[str, Any]]]
    if connection.dialect.name == "sqlite":
        rows = _sqlite_rule_rows(connection, enrolment_ids)
    else:
        rows = connection.execute(
            select(
                models.Event.enrolment_id,
                models.Event.id,
                models.Event.type,
                models.Event.step_id,
                models.Event.occurred_at,
                models.Event.data,
            ).where(models.Event.enrolment_id.in_(enrolment_ids))
        )
    events: dict[str, list[RuleEvent]] = defaultdict(list)
    for enrolment_id, event_id, kind, step_id, occurred_at, data in rows:
        # Stored rows passed SyncEvent validation on the way in (canonical lowercase uuid,
        # UTC-aware time, JSON data), so validating them again as RuleEvent changes nothing.
        events[enrolment_id].append(
            RuleEvent.model_construct(
                id=event_id, type=kind, step_id=step_id, occurred_at=occurred_at, data=data
            )
        )
    return events


def _sqlite_rule_rows(
    connection: Connection, enrolment_ids: Sequence[str]
) -> Iterator[tuple[str, str, str, str | None, datetime, dict[str, Any]]]:
    """`_rule_events`'s rows read through the driver: a programme's worth of events for
    each of some forty enrolments is a thousand rows a batch, and SQLAlchemy's per-value
    result processing was a fifth of recomputing their progress. Times are stored as
    `sqlite_timestamp` writes them (UTC, no offset), data as JSON text."""
    marks = ", ".join("?" * len(enrolment_ids))
    for enrolment_id, event_id, kind, step_id, occurred_at, data in connection.exec_driver_sql(
        "SELECT enrolment_id, id, type, step_id, occurred_at, data FROM events "
        f"WHERE enrolment_id IN ({marks})",
        tuple(enrolment_ids),
    ):
        yield (
            enrolment_id,
            event_id,
            kind,
            step_id,
            datetime.fromisoformat(occurred_at).replace(tzinfo=UTC),
            json.loads(data),
        )


def _record(
    enrolment: models.Enrolment,
    result: ProgrammeProgress,
    events: Sequence[RuleEvent],
    received_at: datetime,
) -> bool:
    before = (enrolment.status, enrolment.progress_percent, enrolment.completed_at)
    if enrolment.status != models.EnrolmentStatus.WITHDRAWN:
        if result.complete:
            enrolment.status = models.EnrolmentStatus.COMPLETE
        elif any(e.type != "enrolment.assigned" for e in events):
            enrolment.status = models.EnrolmentStatus.IN_PROGRESS
    enrolment.progress_percent = result.percent
    enrolment.completed_at = result.completed_at
    if result.complete and enrolment.completion_received_at is None:
        enrolment.completion_received_at = received_at
    return before != (enrolment.status, enrolment.progress_percent, enrolment.completed_at)
