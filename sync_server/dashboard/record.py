"""A participant's whole record for staff: enrolments, timeline and evidence; every read
of it is written to the audit log in the same transaction."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content_packs import model
from content_packs.progress import ProgrammeProgress, progress
from sync_server.dashboard import evidence
from sync_server.dashboard.auth import Staff
from sync_server.dashboard.evidence import StoredEvent
from sync_server.dashboard.overview import ACTIVE
from sync_server.dashboard.scope import may_see_force
from sync_server.models import Device, Enrolment, Event, PackRelease, Participant, Site
from sync_server.services import reviews
from sync_server.services.admin import audit

# A timeline longer than this shows its first events and says how many there are.
MAX_TIMELINE = 5000


@dataclass(frozen=True)
class TimelineEntry:
    event: StoredEvent
    step_title: str
    programme_id: str
    description: str


@dataclass
class EnrolmentRecord:
    enrolment: Enrolment
    programme_title: str
    overdue: bool
    result: ProgrammeProgress | None = None
    quizzes: list[evidence.QuizAttempt] = field(default_factory=list)
    modules: list[evidence.ModuleTime] = field(default_factory=list)
    writings: list[evidence.Writing] = field(default_factory=list)


@dataclass
class ParticipantRecord:
    participant: Participant
    site_name: str
    enrolments: list[EnrolmentRecord]
    timeline: list[TimelineEntry]
    event_count: int


def view_participant(
    s: Session, *, staff: Staff, participant_id: str, today: date, now: datetime
) -> ParticipantRecord | None:
    """The record if `staff` may see it (None otherwise); the view, or the refusal, is audited."""
    participant = s.get(Participant, participant_id)
    if participant is None or not may_see_force(staff, participant.force_id):
        audit(
            s,
            action="participant.view_refused",
            subject=participant_id[:80],
            force_id=staff.force_id,
            now=now,
            actor=staff.username,
            details={"session": staff.session_id},
        )
        return None
    record = _record(s, participant, today)
    audit(
        s,
        action="participant.viewed",
        subject=participant.id,
        force_id=participant.force_id,
        now=now,
        actor=staff.username,
        details={
            "session": staff.session_id,
            "role": staff.role.value,
            "enrolments": [e.enrolment.id for e in record.enrolments],
        },
    )
    return record


def _record(s: Session, participant: Participant, today: date) -> ParticipantRecord:
    site_name = s.scalar(select(Site.name).where(Site.id == participant.site_id)) or ""
    enrolments = list(
        s.scalars(
            select(Enrolment)
            .where(Enrolment.participant_id == participant.id)
            .order_by(Enrolment.assigned_at, Enrolment.id)
        )
    )
    programmes = _programmes(s, enrolments)
    event_count = (
        s.scalar(
            select(func.count()).select_from(Event).where(Event.participant_id == participant.id)
        )
        or 0
    )
    stored = _events(s, participant.id)
    by_enrolment: dict[str, list[StoredEvent]] = defaultdict(list)
    for event in stored:
        if event.enrolment_id is not None:
            by_enrolment[event.enrolment_id].append(event)
    # Officers' verdicts count as events for the rules, so a returned piece reads returned.
    verdicts = reviews.rule_events(s, [e.id for e in enrolments])
    records = []
    for enrolment in enrolments:
        programme = programmes.get(enrolment.id)
        records.append(
            _enrolment_record(
                enrolment, programme, by_enrolment[enrolment.id], today,
                verdicts=verdicts.get(enrolment.id, []),
            )
        )  # fmt: skip
    programme_of = {e.id: e.programme_id for e in enrolments}
    timeline = [
        TimelineEntry(
            event=event,
            step_title=evidence.step_title(event, programmes.get(event.enrolment_id or "")),
            programme_id=programme_of.get(event.enrolment_id or "", ""),
            description=evidence.describe(event, programmes.get(event.enrolment_id or "")),
        )
        for event in stored
    ]
    return ParticipantRecord(participant, site_name, records, timeline, event_count)


def _events(s: Session, participant_id: str) -> list[StoredEvent]:
    rows = s.execute(
        select(Event, Device.name)
        .join(Device, Device.id == Event.device_id, isouter=True)
        .where(Event.participant_id == participant_id)
        .order_by(Event.occurred_at, Event.device_id, Event.seq)
        .limit(MAX_TIMELINE)
    )
    return [
        StoredEvent(
            id=e.id,
            type=e.type,
            step_id=e.step_id,
            enrolment_id=e.enrolment_id,
            data=dict(e.data),
            occurred_at=e.occurred_at,
            received_at=e.received_at,
            device_name=name or e.device_id,
        )
        for e, name in rows
    ]


def _programmes(s: Session, enrolments: list[Enrolment]) -> dict[str, model.Programme]:
    """The signed programme each enrolment is judged by, by enrolment id."""
    wanted = {(e.programme_id, e.programme_version) for e in enrolments if e.programme_version}
    parsed: dict[tuple[str, int], model.Programme] = {}
    for pack_id, version, manifest in s.execute(
        select(PackRelease.pack_id, PackRelease.version, PackRelease.manifest).where(
            PackRelease.pack_id.in_([p for p, _ in wanted])
        )
    ):
        if (pack_id, version) in wanted:
            parsed[(pack_id, version)] = model.Programme.model_validate(manifest["programme"])
    return {
        e.id: parsed[(e.programme_id, e.programme_version)]
        for e in enrolments
        if e.programme_version and (e.programme_id, e.programme_version) in parsed
    }


def _enrolment_record(
    enrolment: Enrolment,
    programme: model.Programme | None,
    events: list[StoredEvent],
    today: date,
    *,
    verdicts: list[model.Event],
) -> EnrolmentRecord:
    record = EnrolmentRecord(
        enrolment=enrolment,
        programme_title=programme.title if programme else enrolment.programme_id,
        overdue=enrolment.status in ACTIVE and enrolment.due_date < today,
    )
    if programme is None:
        return record
    rule_events = [
        model.Event(id=e.id, type=e.type, step_id=e.step_id, occurred_at=e.occurred_at, data=e.data)
        for e in events
    ]
    result = progress(programme, [*rule_events, *verdicts])
    ignored = {i.event_id for i in result.ignored_events}
    record.result = result
    record.quizzes = evidence.quiz_attempts(programme, events, ignored)
    record.modules = evidence.module_times(programme, events, result)
    record.writings = evidence.writings(programme, events, result)
    return record
