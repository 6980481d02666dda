"""Reoffending within 3, 6 and 12 months of the disposal: which checks are due, what staff
found, and how each window reads from the records (a reoffence within 3 months is one within
6 and 12; none within 12 months means none within 6 or 3)."""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from sync_server.dashboard.auth import Staff
from sync_server.dashboard.scope import force_filter
from sync_server.models import Enrolment, Participant, ReoffendingRecord

WINDOWS = (3, 6, 12)
PAGE_SIZE = 50


class ReoffendingError(Exception):
    """A record that cannot be made; the message says why, in one sentence."""


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day if it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def cutoff(today: date, months: int, zone: str) -> datetime:
    """Enrolments assigned before this instant have had the whole window: their assignment
    day (in the dashboard's zone) is at least `months` months before today."""
    last_day = months_before(today, months)
    return datetime.combine(last_day + timedelta(days=1), time(), ZoneInfo(zone))


def elapsed(enrolment: Enrolment, months: int, *, today: date, zone: str) -> bool:
    return enrolment.assigned_at < cutoff(today, months, zone)


Standing = dict[int, bool | None]


def standing(records: Mapping[int, bool]) -> Standing:
    """Each window's answer from the records by window: yes if a reoffence was found within it
    or a shorter one, no if none was found within it or a longer one, else unknown."""
    return {
        n: True
        if any(yes for m, yes in records.items() if m <= n)
        else False
        if any(not yes for m, yes in records.items() if m >= n)
        else None
        for n in WINDOWS
    }


def records_of(s: Session, enrolment_ids: Iterable[str]) -> dict[str, dict[int, bool]]:
    found: dict[str, dict[int, bool]] = defaultdict(dict)
    for enrolment_id, months, reoffended in s.execute(
        select(
            ReoffendingRecord.enrolment_id, ReoffendingRecord.months, ReoffendingRecord.reoffended
        ).where(ReoffendingRecord.enrolment_id.in_(list(enrolment_ids)))
    ):
        found[enrolment_id][months] = reoffended
    return found


def _answered(n: int) -> Any:
    """SQL: window `n` of the enrolment already reads yes or no from its records."""
    r = ReoffendingRecord
    return exists().where(
        r.enrolment_id == Enrolment.id,
        or_(
            and_(r.months <= n, r.reoffended.is_(True)),
            and_(r.months >= n, r.reoffended.is_(False)),
        ),
    )


@dataclass(frozen=True)
class Row:
    enrolment: Enrolment
    first_name: str
    surname: str | None
    standing: Standing
    # Windows that have passed with nothing known: the checks to make.
    due: tuple[int, ...]


@dataclass
class Checks:
    rows: list[Row]
    total: int
    page: int
    only_due: bool

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def checks(
    s: Session, *, staff: Staff, today: date, zone: str, only_due: bool, page: int
) -> Checks:
    """Enrolments at least 3 months past their disposal, oldest first: all, or those with a
    window passed and nothing recorded for it."""
    cuts = {n: cutoff(today, n, zone) for n in WINDOWS}
    where: list[Any] = [force_filter(staff, Enrolment.force_id), Enrolment.assigned_at < cuts[3]]
    if only_due:
        where.append(or_(*(and_(Enrolment.assigned_at < cuts[n], ~_answered(n)) for n in WINDOWS)))
    total = s.scalar(select(func.count()).select_from(Enrolment).where(*where)) or 0
    found = s.execute(
        select(Enrolment, Participant.first_name, Participant.surname)
        .join(Participant, Participant.id == Enrolment.participant_id)
        .where(*where)
        .order_by(Enrolment.assigned_at, Enrolment.id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    records = records_of(s, [e.id for e, *_ in found])
    rows = []
    for enrolment, first_name, surname in found:
        known = standing(records.get(enrolment.id, {}))
        due = tuple(n for n in WINDOWS if known[n] is None and enrolment.assigned_at < cuts[n])
        rows.append(Row(enrolment, first_name, surname, known, due))
    return Checks(rows, total, page, only_due)


def record(
    s: Session,
    *,
    enrolment: Enrolment,
    months: int,
    reoffended: bool,
    recorded_by: int,
    today: date,
    zone: str,
    now: datetime,
) -> bool | None:
    """Record (or correct) one window; answers the value it replaced. Refuses a "no" before
    the window has passed, and a record contradicting another window's. Call under
    `writelock.begin_decision`, so two staff cannot interleave."""
    if months not in WINDOWS:
        raise ReoffendingError("Choose 3, 6 or 12 months.")
    if not reoffended and not elapsed(enrolment, months, today=today, zone=zone):
        raise ReoffendingError(
            f"No reoffending within {months} months can only be recorded once {months} "
            "months have passed since the disposal."
        )
    existing = s.scalar(
        select(ReoffendingRecord).where(
            ReoffendingRecord.enrolment_id == enrolment.id, ReoffendingRecord.months == months
        )
    )
    records = records_of(s, [enrolment.id]).get(enrolment.id, {})
    records[months] = reoffended
    for m_yes, yes in records.items():
        for m_no, other in records.items():
            if yes and not other and m_yes <= m_no:
                raise ReoffendingError(
                    f"This contradicts the record for {m_no if m_no != months else m_yes} "
                    "months; correct that one first."
                )
    previous = existing.reoffended if existing is not None else None
    if existing is None:
        s.add(
            ReoffendingRecord(
                enrolment_id=enrolment.id,
                months=months,
                reoffended=reoffended,
                recorded_by=recorded_by,
                at=now,
            )
        )
    else:
        existing.reoffended, existing.recorded_by, existing.at = reoffended, recorded_by, now
    s.flush()
    return previous
