"""What the casework pages share: audit entries in a staff member's name, programme titles."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.dashboard.auth import Staff
from sync_server.models import PackRelease
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
