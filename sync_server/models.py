"""The server's tables, as SQLAlchemy 2 typed mappings; schema changes go through Alembic."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any, NewType

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ForceId = NewType("ForceId", str)
SiteId = NewType("SiteId", str)
DeviceId = NewType("DeviceId", str)
ParticipantId = NewType("ParticipantId", str)
EnrolmentId = NewType("EnrolmentId", str)

# Named constraints, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit column.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always handed back timezone-aware, on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: Json}


class Role(enum.StrEnum):
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    CONTENT = "content"


class DisposalType(enum.StrEnum):
    COMMUNITY_RESOLUTION = "community_resolution"
    CONDITIONAL_CAUTION = "conditional_caution"


class EnrolmentStatus(enum.StrEnum):
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETE = "completed"
    WITHDRAWN = "withdrawn"


class ChangeKind(enum.StrEnum):
    PARTICIPANT = "participant"
    ENROLMENT = "enrolment"
    CATALOGUE = "catalogue"
    REVOCATION = "revocation"
    SETTINGS = "settings"
    EVENT = "event"
    REVIEW = "review"
    OFFICER = "officer"


def _enum(kind: type[enum.StrEnum], name: str) -> Enum:
    # Stored as plain strings with a CHECK, so adding a value is a simple migration.
    return Enum(kind, name=name, native_enum=False, length=32, values_callable=_values)


def _values(kind: type[enum.StrEnum]) -> list[str]:
    return [member.value for member in kind]


class Force(Base):
    __tablename__ = "forces"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    force_id: Mapped[str] = mapped_column(ForeignKey("forces.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("force_id", "access_code_prefix"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    force_id: Mapped[str] = mapped_column(ForeignKey("forces.id"), index=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    ed25519_public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    x25519_recipient: Mapped[str] = mapped_column(String(100))
    access_code_prefix: Mapped[str] = mapped_column(String(3))
    app_version: Mapped[str] = mapped_column(String(40))
    enrolled_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]
    last_pull_cursor: Mapped[int | None] = mapped_column(BigInteger)
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))


class EnrolmentCode(Base):
    __tablename__ = "enrolment_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Only a hash is kept: a database read must not yield a usable code.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    force_id: Mapped[str] = mapped_column(ForeignKey("forces.id"))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    used_at: Mapped[datetime | None]
    used_by_device: Mapped[str | None] = mapped_column(ForeignKey("devices.id"))


class EnrolAttempt(Base):
    """Failed enrolment attempts per client address, for rate limiting across processes."""

    __tablename__ = "enrol_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(index=True)


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    # NULL force: a scheme-wide administrator.
    force_id: Mapped[str | None] = mapped_column(ForeignKey("forces.id"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "staff_role"))
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Participant(Base):
    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("force_id", "access_code"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    force_id: Mapped[str] = mapped_column(ForeignKey("forces.id"), index=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(60))
    # Kept on the server only; never sent to devices.
    surname: Mapped[str | None] = mapped_column(String(100))
    force_reference: Mapped[str] = mapped_column(String(40))
    access_code: Mapped[str] = mapped_column(String(12))
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    pin_must_change: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_pin_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None]
    language: Mapped[str] = mapped_column(String(16), default="en")
    accessibility: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    created_by_device: Mapped[str | None] = mapped_column(ForeignKey("devices.id"))


class Enrolment(Base):
    __tablename__ = "enrolments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), index=True)
    force_id: Mapped[str] = mapped_column(ForeignKey("forces.id"), index=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    programme_id: Mapped[str] = mapped_column(String(64), index=True)
    # The pack version whose signed rules decide completion; the newest when assigned.
    programme_version: Mapped[int | None] = mapped_column(Integer)
    disposal_type: Mapped[DisposalType] = mapped_column(_enum(DisposalType, "disposal_type"))
    conditions: Mapped[str] = mapped_column(Text, default="")
    # Offence text stays on the server; devices never receive it.
    offence_summary: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[EnrolmentStatus] = mapped_column(
        _enum(EnrolmentStatus, "enrolment_status"), index=True
    )
    progress_percent: Mapped[int] = mapped_column(Integer, default=0)
    assigned_at: Mapped[datetime]
    # Device clock of the completing event, and the server clock when it arrived.
    completed_at: Mapped[datetime | None]
    completion_received_at: Mapped[datetime | None]
    created_by_device: Mapped[str | None] = mapped_column(ForeignKey("devices.id"))


class PackRelease(Base):
    """A published pack version: the file on disk and its signed manifest."""

    __tablename__ = "packs"
    __table_args__ = (UniqueConstraint("pack_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    pack_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(500))
    payload_offset: Mapped[int] = mapped_column(BigInteger)
    payload_size: Mapped[int] = mapped_column(BigInteger)
    # SHA-256 of the payload: the same bytes for every device, so it names the version.
    payload_sha256: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[dict[str, Any]]
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)
    publisher_key_id: Mapped[str] = mapped_column(String(16))
    published_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class CatalogueEntry(Base):
    """Which forces receive which pack release."""

    __tablename__ = "catalogue"

    force_id: Mapped[str] = mapped_column(ForeignKey("forces.id"), primary_key=True)
    pack: Mapped[int] = mapped_column(ForeignKey("packs.id"), primary_key=True)
    added_at: Mapped[datetime]


class Event(Base):
    """Every event a device pushed, exactly once, with both clocks."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_enrolment_id", "enrolment_id"),
        Index("ix_events_device_seq", "device_id", "seq"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    participant_id: Mapped[str] = mapped_column(String(36), index=True)
    enrolment_id: Mapped[str | None] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(40))
    step_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime]
    monotonic_ms: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(String(64))


class Change(Base):
    """The change log that feeds pulls: one row per change, in commit order."""

    __tablename__ = "changes"
    # A pull reads each of its scopes (this site, the whole force, the whole scheme) as one
    # index range in seq order.
    __table_args__ = (Index("ix_changes_site_scope", "force_id", "site_id", "seq"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    force_id: Mapped[str | None] = mapped_column(ForeignKey("forces.id"))
    # NULL site: every site of the force (or of the scheme, with NULL force).
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id"))
    kind: Mapped[ChangeKind] = mapped_column(_enum(ChangeKind, "change_kind"))
    entity_id: Mapped[str] = mapped_column(String(64))
    op: Mapped[str] = mapped_column(String(8), default="upsert")
    at: Mapped[datetime]


class Nonce(Base):
    """Signature nonces seen recently; a repeat is a replay."""

    __tablename__ = "nonces"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(index=True)


class Review(Base):
    """An officer's verdict on a reflection or letter."""

    __tablename__ = "reviews"
    # One verdict per submission: two officers deciding at once cannot both win.
    __table_args__ = (UniqueConstraint("submission_event_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    enrolment_id: Mapped[str] = mapped_column(ForeignKey("enrolments.id"), index=True)
    submission_event_id: Mapped[str] = mapped_column(ForeignKey("events.id"))
    step_id: Mapped[str] = mapped_column(String(64))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    verdict: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]


class Outcome(Base):
    """What happened after the deadline, and reoffending recorded later."""

    __tablename__ = "outcomes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    enrolment_id: Mapped[str] = mapped_column(ForeignKey("enrolments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    at: Mapped[datetime]
    # An extension moves the due date: both ends are kept as evidence.
    previous_due_date: Mapped[date | None] = mapped_column(Date)
    new_due_date: Mapped[date | None] = mapped_column(Date)


class ReoffendingRecord(Base):
    """Whether the participant reoffended within `months` (3, 6 or 12) of the disposal, as
    staff found it: one per enrolment and window, corrected in place (the audit log keeps
    every change)."""

    __tablename__ = "reoffending_records"
    __table_args__ = (
        CheckConstraint("months IN (3, 6, 12)", name="months"),
        UniqueConstraint("enrolment_id", "months"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    enrolment_id: Mapped[str] = mapped_column(ForeignKey("enrolments.id"))
    months: Mapped[int] = mapped_column(Integer)
    reoffended: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    at: Mapped[datetime]


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(80), index=True)
    subject: Mapped[str | None] = mapped_column(String(80))
    force_id: Mapped[str | None] = mapped_column(String(40), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Setting(Base):
    """Device settings per force (NULL force: the scheme default)."""

    __tablename__ = "settings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    force_id: Mapped[str | None] = mapped_column(ForeignKey("forces.id"))
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[dict[str, Any]]


class PackHeader(Base):
    """The age header made for one device and pack, kept so resumed downloads match."""

    __tablename__ = "pack_headers"

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    pack: Mapped[int] = mapped_column(ForeignKey("packs.id"), primary_key=True)
    header: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
