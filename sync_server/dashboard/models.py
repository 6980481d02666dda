"""The dashboard's tables (staff sessions, failed logins) and its indexes on shared tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.models import AuditEntry, Base, BigId, Enrolment, Event


class StaffSession(Base):
    """A signed-in browser. Only a hash of the cookie's token is kept: a database read
    must not yield a usable session."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    # The absolute end, however active the session is.
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class StaffLoginFailure(Base):
    """A failed (or still being checked) password attempt, per username typed, so the
    lockout holds across server processes and for usernames that do not exist."""

    __tablename__ = "staff_login_failures"
    __table_args__ = (Index("ix_staff_login_failures_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime]


# The overview groups a force's enrolments by programme, site and status in one pass over
# this index (index-only on PostgreSQL); the participant list walks the due-date ones in
# order, a page at a time.
Index(
    "ix_enrolments_overview",
    Enrolment.force_id,
    Enrolment.programme_id,
    Enrolment.site_id,
    Enrolment.status,
    Enrolment.due_date,
)
Index("ix_enrolments_force_due", Enrolment.force_id, Enrolment.due_date, Enrolment.id)
Index("ix_enrolments_due", Enrolment.due_date, Enrolment.id)
# The audit page searches by who and by which record.
Index("ix_audit_log_actor", AuditEntry.actor)
Index("ix_audit_log_subject", AuditEntry.subject)
# The review queue reads only reflections and letters: a partial index keeps them apart from
# the millions of other events, and finds a step's later submissions without a scan.
WRITINGS = ("reflection.submitted", "letter.submitted")
Index(
    "ix_events_writings",
    Event.enrolment_id,
    Event.step_id,
    Event.occurred_at,
    Event.id,
    sqlite_where=Event.type.in_(WRITINGS),
    postgresql_where=Event.type.in_(WRITINGS),
)
