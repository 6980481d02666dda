"""Naming the staff member behind an audit entry that a shared service wrote (the services
name the command line, their first caller, as the actor)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.dashboard.auth import Staff
from sync_server.models import AuditEntry
from sync_server.services.admin import CLI_ACTOR


def claim(s: Session, *, action: str, subject: str, at: datetime, staff: Staff) -> None:
    """Make the `action` entry on `subject` that a service just wrote (at `at`, for the
    command line) name `staff` and their session instead."""
    s.flush()
    entry = s.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.action == action,
            AuditEntry.subject == subject,
            AuditEntry.actor == CLI_ACTOR,
            AuditEntry.at == at,
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if entry is not None:
        entry.actor = staff.username
        entry.details = {**entry.details, "session": staff.session_id, "role": staff.role.value}
