"""The kiosk's tables, as SQLAlchemy 2 typed mappings; schema changes go through Alembic."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, NewType

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ParticipantId = NewType("ParticipantId", str)
EnrolmentId = NewType("EnrolmentId", str)
EventId = NewType("EventId", str)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC and handed back timezone-aware."""

    impl = DateTime()
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


def table_of(model: type[Base]) -> Table:
    """A mapped class's table, for statements on the hot path that skip the ORM's bookkeeping
    (a step change runs several)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class Device(Base):
    """This kiosk's identity; a single row, mostly empty until enrolment (issue 5)."""

    __tablename__ = "device"

    row: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    device_id: Mapped[str | None] = mapped_column(String(36))
    ed25519_private_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    x25519_identity: Mapped[str | None] = mapped_column(String(100))
    server_url: Mapped[str | None] = mapped_column(String(2048))
    force_id: Mapped[str | None] = mapped_column(String(128))
    force_name: Mapped[str | None] = mapped_column(String(120))
    site_id: Mapped[str | None] = mapped_column(String(128))
    site_name: Mapped[str | None] = mapped_column(String(120))
    access_code_prefix: Mapped[str | None] = mapped_column(String(3))
    publisher_keys: Mapped[list[Any]] = mapped_column(default=list)


class SettingsRow(Base):
    """Settings the server sends (`sync_server.protocol.Settings`); a single row."""

    __tablename__ = "settings"

    row: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    idle_timeout_seconds: Mapped[int]
    idle_warning_seconds: Mapped[int]
    max_pin_attempts: Mapped[int]
    sync_interval_seconds: Mapped[int]


class Participant(Base):
    __tablename__ = "participants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(60))
    access_code: Mapped[str] = mapped_column(String(9), unique=True)
    pin_hash: Mapped[str | None] = mapped_column(String(512))
    pin_must_change: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_pin_attempts: Mapped[int] = mapped_column(default=0)
    last_failed_pin_at: Mapped[datetime | None]
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(35), default="en")
    accessibility: Mapped[dict[str, Any]] = mapped_column(default=dict)
    privacy_confirmed_at: Mapped[datetime | None]


class Enrolment(Base):
    __tablename__ = "enrolments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), index=True)
    programme_id: Mapped[str] = mapped_column(String(64))
    programme_version: Mapped[int | None]
    disposal_type: Mapped[str] = mapped_column(String(40))
    conditions: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="assigned")


class InstalledPack(Base):
    __tablename__ = "installed_packs"
    __table_args__ = (UniqueConstraint("pack_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pack_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    path: Mapped[str] = mapped_column(String(1024))  # relative to the data folder
    signature: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    installed_at: Mapped[datetime]


class JournalEvent(Base):
    """Every event, append-only; the sync client pushes the unacknowledged ones in seq order."""

    __tablename__ = "journal"
    __table_args__ = (Index("ix_journal_unacked", "acked_at", "seq"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    participant_id: Mapped[str] = mapped_column(String(36), index=True)
    enrolment_id: Mapped[str | None] = mapped_column(String(36), index=True)
    type: Mapped[str] = mapped_column(String(64))
    step_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[datetime]
    monotonic_ms: Mapped[int]
    acked_at: Mapped[datetime | None]
    # NULL: made here. Otherwise the device that made it: pulled from the server so that a
    # participant can go on here (stored acknowledged; never pushed back).
    origin_device_id: Mapped[str | None] = mapped_column(String(36))
    origin_seq: Mapped[int | None]
    # The server's answer once acknowledged: accepted, duplicate, conflict, rejected, pulled.
    sync_status: Mapped[str | None] = mapped_column(String(16))
    sync_reason: Mapped[str | None] = mapped_column(String(500))


class Counter(Base):
    """Named counters advanced inside the transaction that uses them (journal seq)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int]


class Draft(Base):
    """Autosaved work in progress on a step; saving one makes no event."""

    __tablename__ = "drafts"

    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), primary_key=True)
    enrolment_id: Mapped[str] = mapped_column(ForeignKey("enrolments.id"), primary_key=True)
    step_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]


class ResumePointer(Base):
    """Where the participant was in an enrolment, so Continue returns there."""

    __tablename__ = "resume_pointers"

    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), primary_key=True)
    enrolment_id: Mapped[str] = mapped_column(ForeignKey("enrolments.id"), primary_key=True)
    step_id: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class SyncState(Base):
    """Where sync stands (a single row): the pull cursor, the backoff, the last outcome."""

    __tablename__ = "sync_state"

    row: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    pull_cursor: Mapped[str] = mapped_column(String(200), default="")
    last_attempt_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    # Consecutive failed syncs that are worth retrying, and when the next may start.
    failures: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Server clock minus device clock, learned from the server, for signature `created`.
    clock_offset_seconds: Mapped[float] = mapped_column(Float, default=0.0)


class CatalogueEntry(Base):
    """A pack release the server offers this kiosk (and whether it was withdrawn)."""

    __tablename__ = "catalogue"

    pack_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(35))
    family: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(2048))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    # The ETag of a partly downloaded file, so the download resumes only on the same bytes.
    partial_etag: Mapped[str | None] = mapped_column(String(200))
    # Why the last attempt to install it failed (plain words), if it did.
    problem: Mapped[str | None] = mapped_column(String(500))


class Officer(Base):
    """Staff who may open the officer console, as the server sent them (never made here)."""

    __tablename__ = "officers"

    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(512))
    # Wrong passwords typed on this kiosk; kept here only, like a participant's.
    failed_attempts: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]


class ReviewVerdict(Base):
    """An officer's verdict on a reflection or letter, as the server sent it (never made here).

    Named by the submission it judges; the completion rules read it as the event
    `sync_server.protocol.review_rule_event` makes, exactly as the server does.
    """

    __tablename__ = "review_verdicts"

    submission_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    participant_id: Mapped[str] = mapped_column(String(36), index=True)
    enrolment_id: Mapped[str] = mapped_column(String(36), index=True)
    step_id: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(16))  # accepted | returned
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime]
    received_at: Mapped[datetime]
