"""What the casework pages share: audit entries in a staff member's name, programme titles,
the dashboard's today, and page numbers and days read from the address."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.dashboard.auth import Staff
from sync_server.models import PackRelease
from sync_server.runtime import Runtime
from sync_server.services.admin import audit


def audit_as(
    s: Session,
    staff: Staff,
    action: str,
    *,
    at: datetime,
    subject: str | None = None,
    force_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """An audit entry naming `staff` and their session; ids only, never names or text."""
    audit(
        s,
        action=action,
        subject=subject,
        force_id=force_id or staff.force_id,
        now=at,
        actor=staff.username,
        details={"session": staff.session_id, **(details or {})},
    )


def programme_titles(s: Session, programme_ids: Iterable[str]) -> dict[str, str]:
    """The newest title of each programme (ascending versions, so the newest wins)."""
    return dict(
        s.execute(
            select(PackRelease.pack_id, PackRelease.title)
            .where(PackRelease.pack_id.in_(list(programme_ids)))
            .order_by(PackRelease.pack_id, PackRelease.version)
        ).all()
    )


def page_number(raw: str | None) -> int:
    """The page asked for in the address; the first for anything that is not a page."""
    return max(int(raw), 1) if raw and raw.isdigit() and len(raw) <= 6 else 1


# A search's or export's first and last day, unlabelled in what is refused.
SPAN = {"from": "", "to": ""}


def local_today(runtime: Runtime, at: datetime) -> date:
    """The day `at` falls on in the dashboard's time zone, which deadlines are counted in."""
    return at.astimezone(ZoneInfo(runtime.settings.dashboard_timezone)).date()


def parse_days(
    params: Mapping[str, str], fields: Mapping[str, str], *, refused: str
) -> tuple[dict[str, date | None], list[str]]:
    """The days asked for in the parameters named by `fields` (each may be left out), and a
    sentence for each that is not a date, starting with its field's label and ending in
    `refused`."""
    errors: list[str] = []
    days: dict[str, date | None] = {}
    for name, label in fields.items():
        raw = params.get(name, "").strip()
        try:
            days[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            errors.append(f"{label}{raw[:20]!r} is not a date (use YYYY-MM-DD){refused}")
            days[name] = None
    return days, errors
