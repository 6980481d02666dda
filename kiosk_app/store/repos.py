"""Repository functions over the kiosk tables: they take a Session and never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from kiosk_app.store.models import (
    CatalogueEntry,
    Device,
    Draft,
    Enrolment,
    InstalledPack,
    Participant,
    ResumePointer,
    ReviewVerdict,
    SettingsRow,
    SyncState,
    table_of,
)
from sync_server import protocol
from sync_server.protocol import Settings

# --- device and settings -----------------------------------------------------------------


def device(s: Session) -> Device:
    """This kiosk's identity row, created empty on first use."""
    row = s.get(Device, 1)
    if row is None:
        row = Device(row=1, publisher_keys=[])
        s.add(row)
        s.flush()
    return row


def settings(s: Session) -> Settings:
    """The settings last received from the server, or the protocol's defaults."""
    row = s.get(SettingsRow, 1)
    if row is None:
        return Settings()
    return Settings(
        idle_timeout_seconds=row.idle_timeout_seconds,
        idle_warning_seconds=row.idle_warning_seconds,
        max_pin_attempts=row.max_pin_attempts,
        sync_interval_seconds=row.sync_interval_seconds,
    )


def save_settings(s: Session, value: Settings) -> None:
    row = s.get(SettingsRow, 1) or SettingsRow(row=1)
    row.idle_timeout_seconds = value.idle_timeout_seconds
    row.idle_warning_seconds = value.idle_warning_seconds
    row.max_pin_attempts = value.max_pin_attempts
    row.sync_interval_seconds = value.sync_interval_seconds
    s.add(row)
    s.flush()


# --- participants and enrolments ---------------------------------------------------------


def add_participant(
    s: Session,
    *,
    participant_id: str,
    first_name: str,
    access_code: str,
    pin_hash: str | None,
    pin_must_change: bool = True,
    language: str = "en",
    accessibility: dict[str, Any] | None = None,
) -> Participant:
    row = Participant(
        id=participant_id,
        first_name=first_name,
        access_code=access_code,
        pin_hash=pin_hash,
        pin_must_change=pin_must_change,
        failed_pin_attempts=0,
        locked=False,
        language=language,
        accessibility=dict(accessibility or {}),
    )
    s.add(row)
    s.flush()
    return row


def participant(s: Session, participant_id: str) -> Participant | None:
    return s.get(Participant, participant_id)


def participant_by_code(s: Session, access_code: str) -> Participant | None:
    return s.scalar(select(Participant).where(Participant.access_code == access_code))


def add_enrolment(
    s: Session,
    *,
    enrolment_id: str,
    participant_id: str,
    programme_id: str,
    programme_version: int | None,
    disposal_type: str,
    due_date: date,
    conditions: str = "",
    status: str = "assigned",
) -> Enrolment:
    row = Enrolment(
        id=enrolment_id,
        participant_id=participant_id,
        programme_id=programme_id,
        programme_version=programme_version,
        disposal_type=disposal_type,
        conditions=conditions,
        due_date=due_date,
        status=status,
    )
    s.add(row)
    s.flush()
    return row


def enrolment(s: Session, enrolment_id: str) -> Enrolment | None:
    return s.get(Enrolment, enrolment_id)


def set_enrolment_status(
    s: Session, enrolment_id: str, status: str, *, only_from: str | None = None
) -> None:
    """Set an enrolment's status (if it is `only_from`, when given) in one UPDATE on the
    table: the player runs this in every unit, and reading the row first cost a step change
    about 1 ms. An `Enrolment` already loaded in `s` does not see the change."""
    enrolments = table_of(Enrolment)
    change = update(enrolments).where(enrolments.c.id == enrolment_id).values(status=status)
    if only_from is not None:
        change = change.where(enrolments.c.status == only_from)
    s.connection().execute(change)  # the session's connection: no ORM bulk-update handling


def enrolments_of(s: Session, participant_id: str) -> Sequence[Enrolment]:
    """A participant's enrolments that are still theirs to work on, soonest due first."""
    return s.scalars(
        select(Enrolment)
        .where(
            Enrolment.participant_id == participant_id,
            Enrolment.status.in_(("assigned", "in_progress", "completed")),
        )
        .order_by(Enrolment.due_date, Enrolment.id)
    ).all()


# --- packs -------------------------------------------------------------------------------


def install_pack(
    s: Session,
    *,
    pack_id: str,
    version: int,
    path: str,
    signature: str,
    sha256: str,
    installed_at: datetime,
) -> InstalledPack:
    """Record a pack file already in place under the data folder (`path` relative to it)."""
    row = InstalledPack(
        pack_id=pack_id,
        version=version,
        path=path,
        signature=signature,
        sha256=sha256,
        installed_at=installed_at,
    )
    s.add(row)
    s.flush()
    return row


def installed_pack(s: Session, *, pack_id: str, version: int | None) -> InstalledPack | None:
    """The given version of a pack, or its newest installed version when `version` is None."""
    query = select(InstalledPack).where(InstalledPack.pack_id == pack_id)
    if version is not None:
        query = query.where(InstalledPack.version == version)
    return s.scalar(query.order_by(InstalledPack.version.desc()).limit(1))


# --- drafts and resume pointers ----------------------------------------------------------


def save_draft(
    s: Session,
    *,
    participant_id: str,
    enrolment_id: str,
    step_id: str,
    content: dict[str, Any],
    at: datetime,
) -> None:
    row = s.get(Draft, (participant_id, enrolment_id, step_id))
    if row is None:
        row = Draft(participant_id=participant_id, enrolment_id=enrolment_id, step_id=step_id)
        s.add(row)
    row.content = dict(content)
    row.updated_at = at
    s.flush()


def drafts(s: Session, *, participant_id: str, enrolment_id: str) -> dict[str, dict[str, Any]]:
    """Every draft saved for one enrolment, by step id."""
    rows = s.scalars(
        select(Draft).where(
            Draft.participant_id == participant_id, Draft.enrolment_id == enrolment_id
        )
    )
    return {row.step_id: dict(row.content) for row in rows}


def delete_draft(s: Session, *, participant_id: str, enrolment_id: str, step_id: str) -> None:
    s.execute(
        delete(Draft).where(
            Draft.participant_id == participant_id,
            Draft.enrolment_id == enrolment_id,
            Draft.step_id == step_id,
        )
    )


def resume_step(s: Session, *, participant_id: str, enrolment_id: str) -> str | None:
    # Read from the table, as `set_resume_step` writes it (an ORM object would not see that).
    pointers = table_of(ResumePointer)
    return s.scalar(
        select(pointers.c.step_id).where(
            pointers.c.participant_id == participant_id,
            pointers.c.enrolment_id == enrolment_id,
        )
    )


def _resume_upsert() -> Any:
    pointers = table_of(ResumePointer)
    upsert = sqlite_insert(pointers)
    return upsert.on_conflict_do_update(
        index_elements=[pointers.c.participant_id, pointers.c.enrolment_id],
        set_={"step_id": upsert.excluded.step_id, "updated_at": upsert.excluded.updated_at},
    )


# Built once, the values given at each call: every step change runs it, and building the
# statement anew (and its cache key) cost more than the upsert itself.
_SET_RESUME = _resume_upsert()


def set_resume_step(
    s: Session, *, participant_id: str, enrolment_id: str, step_id: str, at: datetime
) -> None:
    # One upsert on the table and the session's connection: no read first, no ORM flush.
    s.connection().execute(
        _SET_RESUME,
        {
            "participant_id": participant_id,
            "enrolment_id": enrolment_id,
            "step_id": step_id,
            "updated_at": at,
        },
    )


# --- sync state and the pack catalogue (the sync client's) --------------------------------


def sync_state(s: Session) -> SyncState:
    """The sync client's single state row, created on first use."""
    row = s.get(SyncState, 1)
    if row is None:
        row = SyncState(row=1, pull_cursor="", failures=0, clock_offset_seconds=0.0)
        s.add(row)
        s.flush()
    return row


def catalogue(s: Session) -> Sequence[CatalogueEntry]:
    return s.scalars(
        select(CatalogueEntry).order_by(CatalogueEntry.pack_id, CatalogueEntry.version)
    ).all()


def catalogue_entry(s: Session, *, pack_id: str, version: int) -> CatalogueEntry | None:
    return s.get(CatalogueEntry, (pack_id, version))


def installed_packs(s: Session) -> Sequence[InstalledPack]:
    return s.scalars(
        select(InstalledPack).order_by(InstalledPack.pack_id, InstalledPack.version)
    ).all()


# --- officer review verdicts (pulled) ------------------------------------------------------


def save_review_verdict(s: Session, verdict: protocol.ReviewVerdict, *, at: datetime) -> None:
    """Store (or replace) the verdict on one submission as the server sent it."""
    row = s.get(ReviewVerdict, verdict.submission_id)
    if row is None:
        row = ReviewVerdict(submission_id=verdict.submission_id)
        s.add(row)
    row.participant_id = verdict.participant_id
    row.enrolment_id = verdict.enrolment_id
    row.step_id = verdict.step_id
    row.verdict = verdict.verdict
    row.comment = verdict.comment
    row.reviewed_at = verdict.reviewed_at
    row.received_at = at
    s.flush()


def review_verdicts(s: Session, *, enrolment_id: str) -> Sequence[ReviewVerdict]:
    """The verdicts on one enrolment's reflections and letters, oldest first."""
    return s.scalars(
        select(ReviewVerdict)
        .where(ReviewVerdict.enrolment_id == enrolment_id)
        .order_by(ReviewVerdict.reviewed_at, ReviewVerdict.submission_id)
    ).all()
