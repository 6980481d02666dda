"""Searching the audit log: who did what to which record, and when."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sync_server.dashboard.auth import Staff
from sync_server.dashboard.casework import SPAN, page_number, parse_days
from sync_server.dashboard.scope import force_filter
from sync_server.models import AuditEntry

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""
    action: str = ""
    subject: str = ""
    day_from: date | None = None
    day_to: date | None = None
    page: int = 1

    def as_params(self) -> dict[str, str]:
        values: dict[str, Any] = {
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "from": self.day_from.isoformat() if self.day_from else "",
            "to": self.day_to.isoformat() if self.day_to else "",
        }
        return {k: str(v) for k, v in values.items() if v}


@dataclass
class AuditPage:
    filters: AuditFilters
    entries: list[AuditEntry] = field(default_factory=list)
    total: int = 0
    actions: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def parse_filters(params: Mapping[str, str]) -> tuple[AuditFilters, list[str]]:
    days, errors = parse_days(params, SPAN, refused="; ignored.")
    return (
        AuditFilters(
            actor=params.get("actor", "").strip()[:80],
            action=params.get("action", "").strip()[:80],
            subject=params.get("subject", "").strip()[:80],
            day_from=days["from"],
            day_to=days["to"],
            page=page_number(params.get("page")),
        ),
        errors,
    )


def search(s: Session, *, staff: Staff, filters: AuditFilters, zone: str) -> AuditPage:
    """One page of audit entries, newest first; a force's admin sees only that force's."""
    where: list[Any] = [force_filter(staff, AuditEntry.force_id)]
    if filters.actor:
        where.append(AuditEntry.actor == filters.actor.lower())
    if filters.action:
        where.append(AuditEntry.action == filters.action)
    if filters.subject:
        where.append(AuditEntry.subject == filters.subject)
    tz = ZoneInfo(zone)
    if filters.day_from:
        where.append(AuditEntry.at >= datetime.combine(filters.day_from, time(), tz))
    if filters.day_to:
        end = datetime.combine(filters.day_to + timedelta(days=1), time(), tz)
        where.append(AuditEntry.at < end)
    total = s.scalar(select(func.count()).select_from(AuditEntry).where(*where)) or 0
    entries = list(
        s.scalars(
            select(AuditEntry)
            .where(*where)
            .order_by(AuditEntry.id.desc())
            .limit(PAGE_SIZE)
            .offset((filters.page - 1) * PAGE_SIZE)
        )
    )
    actions = list(
        s.scalars(
            select(AuditEntry.action)
            .where(force_filter(staff, AuditEntry.force_id))
            .distinct()
            .order_by(AuditEntry.action)
        )
    )
    return AuditPage(filters=filters, entries=entries, total=total, actions=actions)
