"""The overview's figures: counts by status and deadline, completion rate and median days,
in total and per programme, site and force, from grouped SQL aggregates."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, select, text, tuple_
from sqlalchemy.orm import Session

from sync_server.dashboard.auth import Staff
from sync_server.dashboard.scope import force_filter
from sync_server.models import Enrolment, EnrolmentStatus, Force, PackRelease, Site

ACTIVE = (EnrolmentStatus.ASSIGNED, EnrolmentStatus.IN_PROGRESS)
DUE_SOON = timedelta(days=7)


@dataclass
class Counts:
    assigned: int = 0
    in_progress: int = 0
    completed: int = 0
    withdrawn: int = 0
    overdue: int = 0
    due_this_week: int = 0
    median_days: float | None = None

    @property
    def total(self) -> int:
        return self.assigned + self.in_progress + self.completed + self.withdrawn

    @property
    def completion_rate(self) -> float | None:
        """Completed, of the enrolments that are complete or past their deadline."""
        decided = self.completed + self.overdue
        return self.completed / decided if decided else None

    def add(self, status: str, count: int, overdue: int, due_soon: int) -> None:
        if status == EnrolmentStatus.COMPLETE:
            self.completed += count
        elif status == EnrolmentStatus.IN_PROGRESS:
            self.in_progress += count
        elif status == EnrolmentStatus.WITHDRAWN:
            self.withdrawn += count
        else:
            self.assigned += count
        self.overdue += overdue
        self.due_this_week += due_soon


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    counts: Counts


@dataclass
class Overview:
    today: date
    totals: Counts = field(default_factory=Counts)
    by_programme: list[Group] = field(default_factory=list)
    by_site: list[Group] = field(default_factory=list)
    # Filled only for scheme-wide staff.
    by_force: list[Group] = field(default_factory=list)


def overview(s: Session, *, staff: Staff, today: date) -> Overview:
    """Every figure of the overview page, from a few grouped queries whatever the volume."""
    active = Enrolment.status.in_([status.value for status in ACTIVE])
    overdue = case((active & (Enrolment.due_date < today), 1), else_=0)
    due_soon = case(
        (active & (Enrolment.due_date >= today) & (Enrolment.due_date < today + DUE_SOON), 1),
        else_=0,
    )
    rows = s.execute(
        select(
            Enrolment.force_id,
            Enrolment.programme_id,
            Enrolment.site_id,
            Enrolment.status,
            func.count(),
            func.sum(overdue),
            func.sum(due_soon),
        )
        .where(force_filter(staff, Enrolment.force_id))
        .group_by(Enrolment.force_id, Enrolment.programme_id, Enrolment.site_id, Enrolment.status)
    ).all()
    result = Overview(today=today)
    programmes: dict[str, Counts] = defaultdict(Counts)
    sites: dict[str, Counts] = defaultdict(Counts)
    forces: dict[str, Counts] = defaultdict(Counts)
    for force_id, programme_id, site_id, status, count, n_overdue, n_soon in rows:
        for counts in (result.totals, programmes[programme_id], sites[site_id], forces[force_id]):
            counts.add(str(status), count, int(n_overdue or 0), int(n_soon or 0))
    medians = _medians(s, staff)
    result.totals.median_days = medians.get(("total", ""))
    for (kind, key), median in medians.items():
        if kind == "programme":
            programmes[key].median_days = median
        elif kind == "site":
            sites[key].median_days = median
    result.by_programme = _groups(programmes, _programme_titles(s, programmes))
    result.by_site = _groups(sites, _names(s, Site, sites))
    if staff.force_id is None:
        result.by_force = _groups(forces, _names(s, Force, forces))
    return result


def _groups(counts: dict[str, Counts], labels: dict[str, str]) -> list[Group]:
    return sorted(
        (Group(key, labels.get(key, key), c) for key, c in counts.items()),
        key=lambda g: g.label.lower(),
    )


def _programme_titles(s: Session, ids: Iterable[str]) -> dict[str, str]:
    newest = (
        select(PackRelease.pack_id, PackRelease.title)
        .where(PackRelease.pack_id.in_(list(ids)))
        .order_by(PackRelease.pack_id, PackRelease.version)
    )
    # Ascending versions, so the newest title wins.
    return dict(s.execute(newest).all())


def _names(s: Session, table: type[Site] | type[Force], ids: Iterable[str]) -> dict[str, str]:
    rows = s.execute(select(table.id, table.name).where(table.id.in_(list(ids))))
    return dict(rows.all())


def _days_to_complete(s: Session) -> Any:
    """Days from assignment to completion (both on the device clock), per dialect."""
    if s.get_bind().dialect.name == "postgresql":
        # date_part gives float8; extract() gives numeric since PostgreSQL 14, and numeric
        # arithmetic over every completed row was most of the overview's time at 100k rows.
        seconds = func.date_part("epoch", Enrolment.completed_at - Enrolment.assigned_at)
        return seconds / 86400.0
    return func.julianday(Enrolment.completed_at) - func.julianday(Enrolment.assigned_at)


Medians = dict[tuple[str, str], float]


def _medians(s: Session, staff: Staff) -> Medians:
    """Median days to complete, keyed ("total", ""), ("programme", id) and ("site", id)."""
    if s.get_bind().dialect.name == "postgresql":
        return _medians_postgresql(s, staff)
    return _medians_streamed(s, staff)


def _completed(staff: Staff) -> list[Any]:
    return [
        force_filter(staff, Enrolment.force_id),
        Enrolment.status == EnrolmentStatus.COMPLETE.value,
        Enrolment.completed_at.is_not(None),
    ]


def _medians_postgresql(s: Session, staff: Staff) -> Medians:
    """One scan: an ordered-set aggregate over three grouping sets."""
    # Enough sort memory, for this transaction only, to sort 100,000 durations in memory
    # instead of spilling them to disk.
    s.execute(text("SET LOCAL work_mem = '32MB'"))
    days = _days_to_complete(s)
    rows = s.execute(
        select(
            Enrolment.programme_id,
            Enrolment.site_id,
            func.grouping(Enrolment.programme_id),
            func.grouping(Enrolment.site_id),
            func.percentile_cont(0.5).within_group(days),
        )
        .where(*_completed(staff))
        .group_by(
            func.grouping_sets(tuple_(), tuple_(Enrolment.programme_id), tuple_(Enrolment.site_id))
        )
    )
    found: Medians = {}
    for programme_id, site_id, no_programme, no_site, median in rows:
        if median is None:
            continue
        if not no_programme:
            found[("programme", programme_id)] = float(median)
        elif not no_site:
            found[("site", site_id)] = float(median)
        else:
            found[("total", "")] = float(median)
    return found


def _medians_streamed(s: Session, staff: Staff) -> Medians:
    """SQLite has no percentile aggregate, and ranking with window functions sorts once per
    grouping (about 0.5 s at 100,000 enrolments); one narrow scan sorted here is 5x faster."""
    days: dict[tuple[str, str], list[float]] = defaultdict(list)
    rows = s.execute(
        select(Enrolment.programme_id, Enrolment.site_id, _days_to_complete(s)).where(
            *_completed(staff)
        )
    )
    for programme_id, site_id, value in rows:
        if value is not None:
            for key in (("total", ""), ("programme", programme_id), ("site", site_id)):
                days[key].append(float(value))
    return {key: statistics.median(values) for key, values in days.items()}
