"""The pull stage: apply each page of changes and advance the cursor in one transaction.

A page is fetched with no transaction open, then applied and its cursor stored together,
so a crash or a cut repeats at most one page, and applying a page twice changes nothing.
Participants' PIN hashes and lockout come from the server; local events the server has
not acknowledged yet are replayed over what it sent, so a PIN chosen or a wrong PIN typed
during a sync is not undone by it. An officer's verdict on a reflection or letter is kept
for Home, which shows a returned piece's comment at the participant's next login.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kiosk_app.store import journal, repos
from kiosk_app.store.db import Store
from kiosk_app.store.models import (
    CatalogueEntry,
    Draft,
    Enrolment,
    InstalledPack,
    JournalEvent,
    Officer,
    Participant,
    ResumePointer,
    ReviewVerdict,
)
from kiosk_app.sync.transport import Transport
from sync_server import protocol

log = logging.getLogger(__name__)

# Applied in this order within a page, so a participant exists before its enrolments.
_KIND_ORDER = {"settings": 0, "participant": 1, "enrolment": 2, "event": 3, "review": 4}
_STATUS_RANK = {"assigned": 0, "in_progress": 1, "completed": 2}


@dataclass(slots=True)
class PullReport:
    pages: int = 0
    changes: int = 0
    events: int = 0
    verdicts: int = 0
    removed_packs: list[Path] = field(default_factory=list)


def pull_stage(*, store: Store, transport: Transport, now: datetime) -> PullReport:
    """Pull pages until the server says there is no more."""
    report = PullReport()
    with store.unit() as s:
        cursor = repos.sync_state(s).pull_cursor
    while True:
        page = transport.pull(cursor)
        with store.unit() as s:
            removed = apply_changes(
                s, page.changes, now=now, report=report, data_dir=store.data_dir
            )
            repos.sync_state(s).pull_cursor = page.next_cursor
        # Files go only once the rows that named them are gone for good.
        for path in removed:
            path.unlink(missing_ok=True)
        report.removed_packs.extend(removed)
        report.pages += 1
        report.changes += len(page.changes)
        cursor = page.next_cursor
        if not page.more:
            return report


def apply_changes(
    s: Session,
    changes: Sequence[protocol.Change],
    *,
    now: datetime,
    report: PullReport,
    data_dir: Path,
) -> list[Path]:
    """Apply one page; answers pack files to delete after commit (withdrawn packs)."""
    removed: list[Path] = []
    for change in sorted(changes, key=lambda c: (_KIND_ORDER.get(c.kind, 9), c.seq)):
        if change.op == "delete":
            _delete(s, change)
            continue
        state = protocol.change_data(change)
        if isinstance(state, protocol.Settings):
            repos.save_settings(s, state)
        elif isinstance(state, protocol.ParticipantState):
            _participant(s, state)
        elif isinstance(state, protocol.EnrolmentState):
            _enrolment(s, state)
        elif isinstance(state, protocol.SyncEvent):
            report.events += _foreign_event(s, state, now)
        elif isinstance(state, protocol.CatalogueEntry):
            _catalogue(s, state)
        elif isinstance(state, protocol.Revocation):
            removed.extend(_revoke(s, state, data_dir))
        elif isinstance(state, protocol.OfficerCredential):
            _officer(s, state)
        elif isinstance(state, protocol.ReviewVerdict):
            report.verdicts += _verdict(s, state, now)
    return removed


def _participant(s: Session, state: protocol.ParticipantState) -> None:
    row = repos.participant(s, state.id)
    if row is None:
        row = Participant(id=state.id, privacy_confirmed_at=None, last_failed_pin_at=None)
        s.add(row)
    row.first_name = state.first_name
    row.access_code = state.access_code
    row.pin_hash = state.pin_hash
    row.pin_must_change = state.pin_must_change
    row.failed_pin_attempts = state.failed_pin_attempts
    row.locked = state.locked
    row.language = state.language
    row.accessibility = dict(state.accessibility)
    _replay_pending(s, row)
    s.flush()


def _replay_pending(s: Session, row: Participant) -> None:
    """Local events the server has not acknowledged yet, over the server's state."""
    pending = s.scalars(
        select(JournalEvent)
        .where(JournalEvent.participant_id == row.id, JournalEvent.acked_at.is_(None))
        .order_by(JournalEvent.seq)
    )
    for event in pending:
        if event.type == "pin.changed":
            row.pin_hash = str(event.data.get("pin_hash", row.pin_hash))
            row.pin_must_change = False
        elif event.type in ("pin.reset", "participant.unlocked"):
            row.failed_pin_attempts = 0
            row.locked = False
            if event.type == "pin.reset":
                row.pin_hash = str(event.data.get("pin_hash", row.pin_hash))
                row.pin_must_change = True
        elif event.type == "login.failed":
            row.failed_pin_attempts = max(
                row.failed_pin_attempts, int(event.data.get("failed_attempts", 0) or 0)
            )
            row.locked = row.locked or bool(event.data.get("locked", False))
        elif event.type == "session.started" and not row.locked:
            row.failed_pin_attempts = 0


def _officer(s: Session, state: protocol.OfficerCredential) -> None:
    row = s.get(Officer, state.username)
    if row is None:
        row = Officer(username=state.username, failed_attempts=0)
        s.add(row)
    elif row.password_hash != state.password_hash:
        # A new password: the wrong guesses at the old one no longer count against it.
        row.failed_attempts = 0
        row.last_failed_at = row.locked_until = None
    row.display_name = state.display_name
    row.role = state.role
    row.password_hash = state.password_hash
    s.flush()


def _enrolment(s: Session, state: protocol.EnrolmentState) -> None:
    if repos.participant(s, state.participant_id) is None:
        log.warning("enrolment %s names a participant this kiosk does not have", state.id)
        return
    row = repos.enrolment(s, state.id)
    if row is None:
        row = Enrolment(id=state.id, participant_id=state.participant_id, status=state.status)
        s.add(row)
    row.programme_id = state.programme_id
    row.programme_version = state.programme_version
    row.disposal_type = state.disposal_type
    row.conditions = state.conditions
    row.due_date = state.due_date
    # The server lags behind events not pushed yet: never step a status back, but take
    # withdrawn and expired, which only the server decides.
    local = _STATUS_RANK.get(row.status)
    if local is None or state.status not in _STATUS_RANK or _STATUS_RANK[state.status] > local:
        row.status = state.status
    s.flush()


def _foreign_event(s: Session, event: protocol.SyncEvent, now: datetime) -> int:
    """Store another device's event as acknowledged; answers 1 if it was new here."""
    if s.get(JournalEvent, event.id) is not None:
        return 0
    s.add(
        JournalEvent(
            id=event.id,
            seq=_next_local_seq(s),
            participant_id=event.participant_id,
            enrolment_id=event.enrolment_id,
            type=event.type,
            step_id=event.step_id,
            data=dict(event.data),
            occurred_at=event.occurred_at,
            monotonic_ms=event.monotonic_ms,
            acked_at=now,
            origin_device_id=event.device_id,
            origin_seq=event.seq,
            sync_status="pulled",
        )
    )
    if event.enrolment_id is not None:
        enrolment = repos.enrolment(s, event.enrolment_id)
        if enrolment is not None:
            status = "completed" if event.type == "programme.completed" else "in_progress"
            if _STATUS_RANK.get(enrolment.status, 9) < _STATUS_RANK[status]:
                enrolment.status = status
    s.flush()
    return 1


def _next_local_seq(s: Session) -> int:
    # The journal's own counter, so local seq stays unique across made and pulled events.
    return journal._next_seq(s)


def _verdict(s: Session, verdict: protocol.ReviewVerdict, now: datetime) -> int:
    """Keep an officer's verdict for Home and the rules (the server scoped it to this site)."""
    repos.save_review_verdict(s, verdict, at=now)
    return 1


def _catalogue(s: Session, entry: protocol.CatalogueEntry) -> None:
    row = repos.catalogue_entry(s, pack_id=entry.pack_id, version=entry.version)
    if row is None:
        row = CatalogueEntry(pack_id=entry.pack_id, version=entry.version, revoked=False)
        s.add(row)
    elif row.sha256 != entry.sha256:
        row.partial_etag = None  # other bytes now: a partial download is worthless
    row.title = entry.title
    row.language = entry.language
    row.family = entry.family or entry.pack_id
    row.size = entry.size
    row.sha256 = entry.sha256
    row.signature = entry.signature
    row.url = entry.url
    row.problem = None
    s.flush()


def _revoke(s: Session, revocation: protocol.Revocation, data_dir: Path) -> list[Path]:
    """Withdraw a pack version (or all versions): out of the catalogue and off the disk."""
    entries = select(CatalogueEntry).where(CatalogueEntry.pack_id == revocation.pack_id)
    installed = select(InstalledPack).where(InstalledPack.pack_id == revocation.pack_id)
    if revocation.version is not None:
        entries = entries.where(CatalogueEntry.version == revocation.version)
        installed = installed.where(InstalledPack.version == revocation.version)
    for entry in s.scalars(entries):
        entry.revoked = True
    paths = []
    for pack in s.scalars(installed).all():
        paths.append(data_dir / pack.path)
        s.delete(pack)
    if paths:
        log.info("pack %s withdrawn by the server", revocation.pack_id)
    s.flush()
    return paths


def _delete(s: Session, change: protocol.Change) -> None:
    """A record that left this device's scope: nothing of it stays here."""
    if change.kind == "participant":
        for table in (Draft, ResumePointer, ReviewVerdict, Enrolment):
            s.execute(delete(table).where(table.participant_id == change.id))
        s.execute(delete(Participant).where(Participant.id == change.id))
    elif change.kind == "enrolment":
        for table in (Draft, ResumePointer, ReviewVerdict):
            s.execute(delete(table).where(table.enrolment_id == change.id))
        s.execute(delete(Enrolment).where(Enrolment.id == change.id))
    elif change.kind == "review":
        s.execute(delete(ReviewVerdict).where(ReviewVerdict.submission_id == change.id))
    elif change.kind == "officer":
        s.execute(delete(Officer).where(Officer.username == change.id))
