"""Deadlines: overdue, at-risk and late-completed enrolments with the action taken, and the
outcome an officer records (completed late, extended, or breached and referred)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from sync_server.dashboard.auth import Staff
from sync_server.dashboard.casework import programme_titles
from sync_server.dashboard.overview import ACTIVE, DUE_SOON
from sync_server.dashboard.scope import force_filter
from sync_server.models import (
    ChangeKind,
    Enrolment,
    EnrolmentStatus,
    Outcome,
    Participant,
    Site,
    StaffUser,
)
from sync_server.services.changes import record_change

AT_RISK_PERCENT = 50
# Rows per list; the page says how many more there are.
MAX_ROWS = 200
MAX_REASON_LENGTH = 2000
MAX_EXTENSION = timedelta(days=366)


class OutcomeKind(enum.StrEnum):
    COMPLETED_LATE = "completed_late"
    EXTENDED = "extended"
    BREACHED = "breached"


LABELS = {
    OutcomeKind.COMPLETED_LATE: "Completed late",
    OutcomeKind.EXTENDED: "Extended",
    OutcomeKind.BREACHED: "Breached, referred for prosecution",
}


class OutcomeError(Exception):
    """An outcome that cannot be recorded; the message says why, in one sentence."""


@dataclass(frozen=True)
class Action:
    """An outcome as the lists show it."""

    id: int
    kind: str
    reason: str
    at: datetime
    by: str
    previous_due_date: date | None
    new_due_date: date | None

    @property
    def label(self) -> str:
        return _LABEL_OF.get(self.kind, self.kind)


_KINDS = {k.value for k in OutcomeKind}
_LABEL_OF = {k.value: label for k, label in LABELS.items()}


@dataclass(frozen=True)
class Row:
    enrolment: Enrolment
    first_name: str
    surname: str | None
    programme_title: str
    site: str
    action: Action | None


@dataclass
class Listing:
    rows: list[Row]
    total: int


@dataclass
class Deadlines:
    today: date
    overdue: Listing
    at_risk: Listing
    late: Listing


def local_day(value: datetime, zone: str) -> date:
    return value.astimezone(ZoneInfo(zone)).date()


def completed_late(enrolment: Enrolment, zone: str) -> bool:
    """Whether the completion reached the server after the due date: the server's clock
    decides deadlines, never a kiosk's."""
    received = enrolment.completion_received_at
    return (
        enrolment.status == EnrolmentStatus.COMPLETE
        and received is not None
        and local_day(received, zone) > enrolment.due_date
    )


def _active() -> Any:
    return Enrolment.status.in_([status.value for status in ACTIVE])


def _received_on_or_after_due(s: Session) -> Any:
    """A superset of late completions in SQL (the UTC day of receipt is not before the due
    date); `completed_late` then decides in the dashboard's time zone."""
    if s.get_bind().dialect.name == "postgresql":
        day = func.date(func.timezone("UTC", Enrolment.completion_received_at))
    else:
        day = func.date(Enrolment.completion_received_at)
    return day >= Enrolment.due_date


def deadlines(s: Session, *, staff: Staff, today: date, zone: str) -> Deadlines:
    scope = force_filter(staff, Enrolment.force_id)
    overdue = [scope, _active(), Enrolment.due_date < today]
    at_risk = [
        scope,
        _active(),
        Enrolment.due_date >= today,
        Enrolment.due_date < today + DUE_SOON,
        Enrolment.progress_percent < AT_RISK_PERCENT,
    ]
    decided = exists().where(
        Outcome.enrolment_id == Enrolment.id, Outcome.kind == OutcomeKind.COMPLETED_LATE.value
    )
    late = [
        scope,
        Enrolment.status == EnrolmentStatus.COMPLETE.value,
        Enrolment.completion_received_at.is_not(None),
        _received_on_or_after_due(s),
        ~decided,
    ]
    late_rows = [row for row in _rows(s, late, limit=None) if completed_late(row.enrolment, zone)]
    return Deadlines(
        today=today,
        overdue=Listing(_rows(s, overdue), _count(s, overdue)),
        at_risk=Listing(_rows(s, at_risk), _count(s, at_risk)),
        late=Listing(late_rows[:MAX_ROWS], len(late_rows)),
    )


def _count(s: Session, where: list[Any]) -> int:
    return s.scalar(select(func.count()).select_from(Enrolment).where(*where)) or 0


def _rows(s: Session, where: list[Any], *, limit: int | None = MAX_ROWS) -> list[Row]:
    found = s.execute(
        select(Enrolment, Participant.first_name, Participant.surname, Site.name)
        .join(Participant, Participant.id == Enrolment.participant_id)
        .join(Site, Site.id == Enrolment.site_id)
        .where(*where)
        .order_by(Enrolment.due_date, Enrolment.id)
        .limit(limit)
    ).all()
    enrolments = [e for e, *_ in found]
    actions = latest_actions(s, [e.id for e in enrolments])
    names = programme_titles(s, {e.programme_id for e in enrolments})
    return [
        Row(e, first, surname, names.get(e.programme_id, e.programme_id), site, actions.get(e.id))
        for e, first, surname, site in found
    ]


def history(s: Session, enrolment_ids: list[str]) -> dict[str, list[Action]]:
    """Every outcome of these enrolments, oldest first, with who recorded it."""
    found: dict[str, list[Action]] = {}
    rows = s.execute(
        select(Outcome, StaffUser.display_name)
        .join(StaffUser, StaffUser.id == Outcome.recorded_by)
        .where(Outcome.enrolment_id.in_(enrolment_ids))
        .order_by(Outcome.id)
    )
    for outcome, by in rows:
        found.setdefault(outcome.enrolment_id, []).append(
            Action(
                outcome.id,
                outcome.kind,
                outcome.reason,
                outcome.at,
                by,
                outcome.previous_due_date,
                outcome.new_due_date,
            )
        )
    return found


def latest_actions(s: Session, enrolment_ids: list[str]) -> dict[str, Action]:
    return {eid: actions[-1] for eid, actions in history(s, enrolment_ids).items()}


def allowed(enrolment: Enrolment, *, today: date, zone: str, done: list[Action]) -> list[str]:
    """The outcomes that may be recorded for this enrolment now."""
    kinds = []
    if completed_late(enrolment, zone) and not any(
        a.kind == OutcomeKind.COMPLETED_LATE for a in done
    ):
        kinds.append(OutcomeKind.COMPLETED_LATE.value)
    if enrolment.status in ACTIVE:
        kinds.append(OutcomeKind.EXTENDED.value)
        if enrolment.due_date < today:
            kinds.append(OutcomeKind.BREACHED.value)
    return kinds


def clean_reason(raw: str) -> str:
    reason = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not reason:
        raise OutcomeError("Give the reason for this outcome.")
    if len(reason) > MAX_REASON_LENGTH:
        raise OutcomeError(f"The reason is longer than {MAX_REASON_LENGTH} characters.")
    if any((ord(c) < 0x20 and c not in "\t\n") or ord(c) == 0x7F for c in reason):
        raise OutcomeError("The reason contains a control character.")
    return reason


def _new_due_date(raw: str, enrolment: Enrolment, today: date) -> date:
    try:
        new_due = date.fromisoformat(raw.strip())
    except ValueError:
        raise OutcomeError("Give the new due date as a date (YYYY-MM-DD).") from None
    if new_due <= enrolment.due_date or new_due < today:
        raise OutcomeError("The new due date must be later than the current one, and not past.")
    if new_due > today + MAX_EXTENSION:
        raise OutcomeError("The new due date must be within a year from today.")
    return new_due


def record_outcome(
    s: Session,
    *,
    enrolment: Enrolment,
    kind: str,
    reason: str,
    new_due_date: str,
    recorded_by: int,
    today: date,
    zone: str,
    now: datetime,
) -> Outcome:
    """Record an outcome and move the enrolment with it: an extension changes the due date,
    a breach closes the enrolment (withdrawn, which no later event reopens); either reaches
    the participant's kiosks as an enrolment change. Call under `writelock.begin_decision`."""
    done = history(s, [enrolment.id]).get(enrolment.id, [])
    if kind not in _KINDS:
        raise OutcomeError("Choose an outcome.")
    if kind not in allowed(enrolment, today=today, zone=zone, done=done):
        raise OutcomeError(
            f"“{LABELS[OutcomeKind(kind)]}” cannot be recorded for this enrolment now."
        )
    outcome = Outcome(
        enrolment_id=enrolment.id,
        kind=kind,
        reason=clean_reason(reason),
        recorded_by=recorded_by,
        at=now,
        previous_due_date=None,
        new_due_date=None,
    )
    if kind == OutcomeKind.EXTENDED:
        outcome.previous_due_date = enrolment.due_date
        outcome.new_due_date = _new_due_date(new_due_date, enrolment, today)
        enrolment.due_date = outcome.new_due_date
    elif kind == OutcomeKind.BREACHED:
        enrolment.status = EnrolmentStatus.WITHDRAWN
    s.add(outcome)
    if kind != OutcomeKind.COMPLETED_LATE:
        record_change(
            s,
            kind=ChangeKind.ENROLMENT,
            entity_id=enrolment.id,
            force_id=enrolment.force_id,
            site_id=enrolment.site_id,
            at=now,
        )
    s.flush()
    return outcome
