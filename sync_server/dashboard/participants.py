"""The participant list: filters read from the query string, and one page of matches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from sync_server.dashboard.auth import Staff
from sync_server.dashboard.casework import page_number, parse_days
from sync_server.dashboard.overview import ACTIVE, DUE_SOON
from sync_server.dashboard.scope import force_filter
from sync_server.models import Enrolment, EnrolmentStatus, PackRelease, Participant, Site

PAGE_SIZE = 50
MAX_QUERY_LENGTH = 100
STATUSES = {
    "assigned": "Assigned",
    "in_progress": "In progress",
    "completed": "Complete",
    "withdrawn": "Withdrawn",
    "overdue": "Overdue",
    "due_week": "Due this week",
}


@dataclass(frozen=True)
class Filters:
    q: str = ""
    status: str = ""
    programme: str = ""
    site: str = ""
    due_from: date | None = None
    due_to: date | None = None
    page: int = 1

    def as_params(self) -> dict[str, str]:
        """The filters as query parameters (for links that keep them)."""
        values: dict[str, Any] = {
            "q": self.q,
            "status": self.status,
            "programme": self.programme,
            "site": self.site,
            "due_from": self.due_from.isoformat() if self.due_from else "",
            "due_to": self.due_to.isoformat() if self.due_to else "",
        }
        return {k: str(v) for k, v in values.items() if v}


def parse_filters(params: Mapping[str, str]) -> tuple[Filters, list[str]]:
    """Filters from untrusted query parameters, and a sentence per value that was ignored."""
    errors: list[str] = []
    q = params.get("q", "").strip()
    if len(q) > MAX_QUERY_LENGTH:
        errors.append(f"The search text was cut to {MAX_QUERY_LENGTH} characters.")
        q = q[:MAX_QUERY_LENGTH]
    status = params.get("status", "")
    if status and status not in STATUSES:
        errors.append("Unknown status ignored.")
        status = ""
    dates, refused = parse_days(
        params, {"due_from": "Due from: ", "due_to": "Due to: "}, refused="; ignored."
    )
    errors += refused
    return (
        Filters(
            q=q,
            status=status,
            programme=params.get("programme", "")[:64],
            site=params.get("site", "")[:40],
            due_from=dates["due_from"],
            due_to=dates["due_to"],
            page=page_number(params.get("page")),
        ),
        errors,
    )


@dataclass(frozen=True)
class Row:
    participant_id: str
    first_name: str
    surname: str | None
    force_reference: str
    access_code: str
    site: str
    enrolment_id: str | None
    programme_id: str | None
    status: str | None
    progress_percent: int | None
    due_date: date | None
    overdue: bool


@dataclass
class Listing:
    filters: Filters
    rows: list[Row] = field(default_factory=list)
    total: int = 0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def _text_match(q: str) -> Any:
    """Every word of `q` must start a name or the reference, or be the access code or id."""
    clauses = []
    for word in q.lower().split():
        clauses.append(
            or_(
                func.lower(Participant.first_name).startswith(word, autoescape=True),
                func.lower(func.coalesce(Participant.surname, "")).startswith(
                    word, autoescape=True
                ),
                func.lower(Participant.force_reference).startswith(word, autoescape=True),
                func.lower(Participant.access_code) == word,
                Participant.id == word,
            )
        )
    return and_(*clauses)


def _enrolment_filters(filters: Filters, today: date) -> list[Any]:
    active = Enrolment.status.in_([status.value for status in ACTIVE])
    where: list[Any] = []
    if filters.status == "overdue":
        where.append(active & (Enrolment.due_date < today))
    elif filters.status == "due_week":
        where.append(
            active & (Enrolment.due_date >= today) & (Enrolment.due_date < today + DUE_SOON)
        )
    elif filters.status:
        where.append(Enrolment.status == EnrolmentStatus(filters.status).value)
    if filters.programme:
        where.append(Enrolment.programme_id == filters.programme)
    if filters.due_from:
        where.append(Enrolment.due_date >= filters.due_from)
    if filters.due_to:
        where.append(Enrolment.due_date <= filters.due_to)
    return where


def search(s: Session, *, staff: Staff, filters: Filters, today: date) -> Listing:
    """One page of matches, a row per enrolment, in due-date order.

    Without search text the page is read by walking the due-date index, so it costs the same
    at any volume. With search text the matching participants are found first and joined
    to their enrolments; participants with no enrolment yet appear only in such searches.
    """
    by_enrolment = _enrolment_filters(filters, today)
    where = [force_filter(staff, Enrolment.force_id), *by_enrolment]
    if filters.site:
        where.append(Enrolment.site_id == filters.site)
    offset = (filters.page - 1) * PAGE_SIZE
    if not filters.q:
        total = s.scalar(select(func.count()).select_from(Enrolment).where(*where)) or 0
        page = s.execute(
            select(Participant, Enrolment)
            .join(Enrolment, Enrolment.participant_id == Participant.id)
            .where(*where, force_filter(staff, Participant.force_id))
            .order_by(Enrolment.due_date, Enrolment.id)
            .offset(offset)
            .limit(PAGE_SIZE)
        ).all()
    else:
        # With no enrolment filter, participants without an enrolment match too.
        outer = not by_enrolment and not filters.site
        joined = Participant.__table__.join(
            Enrolment.__table__, Enrolment.participant_id == Participant.id, isouter=outer
        )
        where = [force_filter(staff, Participant.force_id), _text_match(filters.q)]
        where += [] if outer else [force_filter(staff, Enrolment.force_id), *by_enrolment]
        if filters.site and not outer:
            where.append(Enrolment.site_id == filters.site)
        total = s.scalar(select(func.count()).select_from(joined).where(*where)) or 0
        page = s.execute(
            select(Participant, Enrolment)
            .select_from(joined)
            .where(*where)
            .order_by(
                Enrolment.due_date.is_(None), Enrolment.due_date, Enrolment.id, Participant.id
            )
            .offset(offset)
            .limit(PAGE_SIZE)
        ).all()
    sites = dict(s.execute(select(Site.id, Site.name)).all())
    rows = [_row(participant, enrolment, sites, today) for participant, enrolment in page]
    return Listing(filters=filters, rows=rows, total=total)


def _row(
    participant: Participant, enrolment: Enrolment | None, sites: dict[str, str], today: date
) -> Row:
    return Row(
        participant_id=participant.id,
        first_name=participant.first_name,
        surname=participant.surname,
        force_reference=participant.force_reference,
        access_code=participant.access_code,
        site=sites.get(enrolment.site_id if enrolment else participant.site_id, ""),
        enrolment_id=enrolment.id if enrolment else None,
        programme_id=enrolment.programme_id if enrolment else None,
        status=str(enrolment.status) if enrolment else None,
        progress_percent=enrolment.progress_percent if enrolment else None,
        due_date=enrolment.due_date if enrolment else None,
        overdue=bool(enrolment and enrolment.status in ACTIVE and enrolment.due_date < today),
    )


def choices(s: Session, *, staff: Staff) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(programmes, sites) the filter menus offer: those of the staff member's force."""
    sites = s.execute(
        select(Site.id, Site.name).where(force_filter(staff, Site.force_id)).order_by(Site.name)
    )
    # Ascending versions, so the newest title of each programme wins.
    titles = dict(
        s.execute(
            select(PackRelease.pack_id, PackRelease.title).order_by(
                PackRelease.pack_id, PackRelease.version
            )
        ).all()
    )
    programmes = sorted(titles.items(), key=lambda item: item[1].lower())
    return programmes, [(site_id, name) for site_id, name in sites]
