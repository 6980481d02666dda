"""What stored events change: participants, enrolments, PIN lockout, and official progress."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from content_packs.model import Event as RuleEvent
from content_packs.model import Programme
from content_packs.progress import progress
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
) -> list[Touched]:
    """Apply newly stored events (in device order); return the entities they changed."""
    touched: dict[Touched, None] = {}
    progress_enrolments: dict[str, None] = {}
    for event in sorted(events, key=lambda e: (e.seq, e.id)):
        if event.type == "participant.registered":
            _register(s, device, event)
            touched[(models.ChangeKind.PARTICIPANT, event.participant_id)] = None
        elif event.type == "enrolment.assigned":
            _assign(s, device, event)
            touched[(models.ChangeKind.ENROLMENT, _require(event.enrolment_id))] = None
        elif event.type in PARTICIPANT_EVENTS and _participant_event(s, event):
            touched[(models.ChangeKind.PARTICIPANT, event.participant_id)] = None
        if event.enrolment_id and event.type not in PARTICIPANT_EVENTS:
            progress_enrolments[event.enrolment_id] = None
    for enrolment_id in progress_enrolments:
        if recompute_progress(s, enrolment_id=enrolment_id, received_at=received_at):
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


def recompute_progress(s: Session, *, enrolment_id: str, received_at: datetime) -> bool:
    """Official status from every stored event and the signed manifest; True if it changed."""
    enrolment = s.get(models.Enrolment, enrolment_id)
    if enrolment is None or enrolment.programme_version is None:
        return False
    release = s.scalar(
        select(models.PackRelease).where(
            models.PackRelease.pack_id == enrolment.programme_id,
            models.PackRelease.version == enrolment.programme_version,
        )
    )
    if release is None:
        return False
    programme = Programme.model_validate(release.manifest["programme"])
    rows = s.execute(
        select(
            models.Event.id,
            models.Event.type,
            models.Event.step_id,
            models.Event.occurred_at,
            models.Event.data,
        ).where(models.Event.enrolment_id == enrolment_id)
    )
    events = [
        RuleEvent(id=r.id, type=r.type, step_id=r.step_id, occurred_at=r.occurred_at, data=r.data)
        for r in rows
    ]
    result = progress(programme, events)
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
