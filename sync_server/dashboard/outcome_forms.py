"""The outcome forms of an enrolment: the fields each reads, and the write that checks what
was typed, records it and says what to audit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from sync_server.dashboard import deadlines, reoffending
from sync_server.models import Enrolment


@dataclass(frozen=True)
class Entry:
    """An outcome form as typed, for an enrolment, by a staff member, at a moment."""

    enrolment: Enrolment
    typed: Mapping[str, str]
    recorded_by: int
    today: date
    zone: str
    now: datetime


# What a write audits: the action, and its details besides the enrolment.
Written = tuple[str, dict[str, object]]


def write_deadline(s: Session, entry: Entry) -> Written:
    outcome = deadlines.record_outcome(
        s,
        enrolment=entry.enrolment,
        kind=entry.typed["kind"],
        reason=entry.typed["reason"],
        new_due_date=entry.typed["new_due_date"],
        recorded_by=entry.recorded_by,
        today=entry.today,
        zone=entry.zone,
        now=entry.now,
    )
    # The reason stays in the outcome record; the audit names what changed.
    return f"deadline.{outcome.kind}", {
        "outcome": outcome.id,
        "previous_due_date": _iso(outcome.previous_due_date),
        "new_due_date": _iso(outcome.new_due_date),
        "status": entry.enrolment.status.value,
    }


def write_reoffending(s: Session, entry: Entry) -> Written:
    answer, months_raw = entry.typed["reoffended"], entry.typed["months"]
    if answer not in ("yes", "no"):
        raise reoffending.ReoffendingError("Say whether they reoffended.")
    months = int(months_raw) if months_raw in ("3", "6", "12") else 0
    previous = reoffending.record(
        s,
        enrolment=entry.enrolment,
        months=months,
        reoffended=answer == "yes",
        recorded_by=entry.recorded_by,
        today=entry.today,
        zone=entry.zone,
        now=entry.now,
    )
    return "reoffending.recorded", {
        "months": months,
        "reoffended": answer == "yes",
        "previous": previous,
    }


# Each outcome form: its fields, and the write that checks them (raising one of REFUSALS
# with the sentence to show) and says what to audit.
FORMS: dict[str, tuple[tuple[str, ...], Callable[[Session, Entry], Written]]] = {
    "deadline": (("kind", "reason", "new_due_date"), write_deadline),
    "reoffending": (("months", "reoffended"), write_reoffending),
}
REFUSALS = (deadlines.OutcomeError, reoffending.ReoffendingError)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
