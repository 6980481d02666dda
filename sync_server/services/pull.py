"""Pulls: the current state of everything in a device's scope that changed after its cursor."""

from __future__ import annotations

import heapq
from datetime import datetime

from pydantic import JsonValue
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sync_server import models, protocol
from sync_server.services import admin, packs
from sync_server.settings import Settings

_SETTINGS_KEYS = set(protocol.Settings.model_fields)


def changes_since(
    s: Session,
    *,
    device: models.Device,
    cursor: int,
    limit: int,
    settings: Settings,
    now: datetime,
) -> protocol.PullResponse:
    rows = _page(s, device, cursor, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    # Several changes to one record in a page collapse into its latest state.
    latest: dict[tuple[str, str], models.Change] = {}
    for row in rows:
        latest.pop((row.kind, row.entity_id), None)
        latest[(row.kind, row.entity_id)] = row
    changes: list[protocol.Change] = []
    if cursor == 0:
        changes.append(_settings_change(s, device, seq=1, settings=settings))
    foreign = _foreign_events(
        s, device, [r.entity_id for r in latest.values() if r.kind == models.ChangeKind.EVENT]
    )
    for row in latest.values():
        if row.kind == models.ChangeKind.EVENT:
            change = foreign.get(row.entity_id)
            if change is not None:
                changes.append(change.model_copy(update={"seq": row.seq}))
            continue
        change = _render(s, device, row, settings)
        if change is not None:
            changes.append(change)
    next_cursor = rows[-1].seq if rows else cursor
    if device.last_pull_cursor is None or cursor > device.last_pull_cursor:
        stored = s.get(models.Device, device.id)
        if stored is not None:
            stored.last_pull_cursor = cursor
    return protocol.PullResponse(
        changes=changes, next_cursor=str(next_cursor), more=more, server_time=now
    )


def _page(s: Session, device: models.Device, cursor: int, count: int) -> list[models.Change]:
    """The first `count` changes after `cursor` in the device's scope, in seq order.

    One ordered, limited index range per scope (its site, its whole force, the scheme, and a
    site change with no force), merged here: each costs at most `count` rows however long the
    log is, where one query with OR'd scopes sorted every later row of the force per page."""
    change = models.Change
    force, site = device.force_id, device.site_id
    scopes = [(force, site), (force, None), (None, site), (None, None)]
    ranges = [
        s.scalars(
            select(change)
            .where(
                change.force_id.is_(None) if force_id is None else change.force_id == force_id,
                change.site_id.is_(None) if site_id is None else change.site_id == site_id,
                change.seq > cursor,
            )
            .order_by(change.seq)
            .limit(count)
        ).all()
        for force_id, site_id in scopes
    ]
    return list(heapq.merge(*ranges, key=lambda row: row.seq))[:count]


def _render(
    s: Session, device: models.Device, row: models.Change, settings: Settings
) -> protocol.Change | None:
    kind = models.ChangeKind(row.kind)
    if kind is models.ChangeKind.PARTICIPANT:
        participant = s.get(models.Participant, row.entity_id)
        if participant is None or participant.site_id != device.site_id:
            return _delete(row)
        return _upsert(row, participant_state(participant).model_dump(mode="json"))
    if kind is models.ChangeKind.ENROLMENT:
        enrolment = s.get(models.Enrolment, row.entity_id)
        if enrolment is None or enrolment.site_id != device.site_id:
            return _delete(row)
        return _upsert(row, enrolment_state(enrolment).model_dump(mode="json"))
    if kind in (models.ChangeKind.CATALOGUE, models.ChangeKind.REVOCATION):
        return _pack_change(s, device, row, settings)
    if kind is models.ChangeKind.REVIEW:
        return _review_change(s, device, row)
    if kind is models.ChangeKind.OFFICER:
        return _officer_change(s, device, row)
    return _settings_change(s, device, seq=row.seq, settings=settings)


def _foreign_events(
    s: Session, device: models.Device, event_ids: list[str]
) -> dict[str, protocol.Change]:
    """The stored events among `event_ids` that another device pushed for an enrolment still
    at this device's site, as "event" changes (seq filled in by the caller); one query."""
    if not event_ids:
        return {}
    # Looked up by primary key only and the site checked here: given the site as well, a
    # planner may walk every event of the site (SQLite without statistics does).
    rows = s.execute(
        select(models.Event, models.Enrolment.site_id)
        .join(models.Enrolment, models.Enrolment.id == models.Event.enrolment_id)
        .where(models.Event.id.in_(event_ids))
    ).all()
    found: dict[str, protocol.Change] = {}
    for event, site_id in rows:
        if event.device_id == device.id or site_id != device.site_id:
            continue
        wire = protocol.SyncEvent(
            id=event.id,
            device_id=event.device_id,
            seq=event.seq,
            participant_id=event.participant_id,
            enrolment_id=event.enrolment_id,
            type=event.type,  # type: ignore[arg-type]  # stored only after validation
            step_id=event.step_id,
            data=event.data,
            occurred_at=event.occurred_at,
            monotonic_ms=event.monotonic_ms,
        )
        found[event.id] = protocol.Change(
            seq=1, kind="event", op="upsert", id=event.id, data=wire.model_dump(mode="json")
        )
    return found


def _upsert(row: models.Change, data: dict[str, JsonValue]) -> protocol.Change:
    kind = _wire_kind(row)
    return protocol.Change(seq=row.seq, kind=kind, op="upsert", id=row.entity_id, data=data)


def _delete(row: models.Change) -> protocol.Change:
    return protocol.Change(seq=row.seq, kind=_wire_kind(row), op="delete", id=row.entity_id)


_WIRE_KINDS: dict[models.ChangeKind, protocol.ChangeKind] = {
    models.ChangeKind.PARTICIPANT: "participant",
    models.ChangeKind.ENROLMENT: "enrolment",
    models.ChangeKind.CATALOGUE: "catalogue",
    models.ChangeKind.REVOCATION: "revocation",
    models.ChangeKind.SETTINGS: "settings",
    models.ChangeKind.EVENT: "event",
    models.ChangeKind.REVIEW: "review",
    models.ChangeKind.OFFICER: "officer",
}


def _wire_kind(row: models.Change) -> protocol.ChangeKind:
    return _WIRE_KINDS[models.ChangeKind(row.kind)]


def participant_state(p: models.Participant) -> protocol.ParticipantState:
    # Deliberately no surname, force reference or offence text: devices never need them.
    return protocol.ParticipantState(
        id=p.id,
        first_name=p.first_name,
        access_code=p.access_code,
        pin_hash=p.pin_hash,
        pin_must_change=p.pin_must_change,
        failed_pin_attempts=p.failed_pin_attempts,
        locked=p.locked_at is not None,
        language=p.language,
        accessibility=p.accessibility,
    )


def enrolment_state(e: models.Enrolment) -> protocol.EnrolmentState:
    return protocol.EnrolmentState(
        id=e.id,
        participant_id=e.participant_id,
        programme_id=e.programme_id,
        programme_version=e.programme_version,
        disposal_type=e.disposal_type.value,
        conditions=e.conditions,
        due_date=e.due_date,
        status=e.status.value,
        progress_percent=e.progress_percent,
        completed_at=e.completed_at,
    )


def _review_change(s: Session, device: models.Device, row: models.Change) -> protocol.Change:
    """An officer's verdict, named by the submission it judges, for the participant's site."""
    found = s.execute(
        select(models.Review, models.Enrolment)
        .join(models.Enrolment, models.Enrolment.id == models.Review.enrolment_id)
        .where(models.Review.submission_event_id == row.entity_id)
    ).one_or_none()
    if found is None or found[1].site_id != device.site_id:
        return _delete(row)
    review, enrolment = found
    return _upsert(row, review_verdict(review, enrolment).model_dump(mode="json"))


def review_verdict(review: models.Review, enrolment: models.Enrolment) -> protocol.ReviewVerdict:
    # The reviewer is not named: devices never learn who the staff are.
    return protocol.ReviewVerdict(
        submission_id=review.submission_event_id,
        participant_id=enrolment.participant_id,
        enrolment_id=enrolment.id,
        step_id=review.step_id,
        verdict="accepted" if review.verdict == "accepted" else "returned",
        comment=review.comment,
        reviewed_at=review.at,
    )


def _officer_change(
    s: Session, device: models.Device, row: models.Change
) -> protocol.Change | None:
    """A console credential by username, or its delete once the account may not use one."""
    user = s.get(models.StaffUser, int(row.entity_id))
    if user is None:
        return None
    may_use = (
        not user.disabled
        and user.force_id == device.force_id
        and models.Role(user.role) in admin.CONSOLE_ROLES
    )
    if not may_use:
        return protocol.Change(seq=row.seq, kind="officer", op="delete", id=user.username)
    return protocol.Change(
        seq=row.seq,
        kind="officer",
        op="upsert",
        id=user.username,
        data=officer_credential(user).model_dump(mode="json"),
    )


def officer_credential(user: models.StaffUser) -> protocol.OfficerCredential:
    # The hash and what the console shows; never the force, lockout or anything else.
    return protocol.OfficerCredential(
        username=user.username,
        display_name=user.display_name,
        role=models.Role(user.role).value,  # type: ignore[arg-type]  # CONSOLE_ROLES only
        password_hash=user.password_hash,
    )


def _pack_change(
    s: Session, device: models.Device, row: models.Change, settings: Settings
) -> protocol.Change | None:
    pack_id, _, version = row.entity_id.partition(":")
    release = s.scalar(
        select(models.PackRelease).where(
            models.PackRelease.pack_id == pack_id, models.PackRelease.version == int(version)
        )
    )
    if release is None:
        return None
    if release.retired_at is not None:
        revocation = protocol.Revocation(pack_id=pack_id, version=release.version, reason="retired")
        return protocol.Change(
            seq=row.seq,
            kind="revocation",
            op="upsert",
            id=row.entity_id,
            data=revocation.model_dump(mode="json"),
        )
    header = packs.device_header(s, settings, device=device, release=release)
    entry = protocol.CatalogueEntry(
        pack_id=release.pack_id,
        version=release.version,
        title=release.title,
        language=release.language,
        family=release.manifest["programme"].get("family") or release.pack_id,
        size=len(header) + release.payload_size,
        sha256=release.payload_sha256,
        signature=release.signature,
        url=f"{protocol.API_PREFIX}/packs/{release.pack_id}/{release.version}",
    )
    return protocol.Change(
        seq=row.seq,
        kind="catalogue",
        op="upsert",
        id=row.entity_id,
        data=entry.model_dump(mode="json"),
    )


def _settings_change(
    s: Session, device: models.Device, *, seq: int, settings: Settings
) -> protocol.Change:
    values: dict[str, JsonValue] = {"idle_timeout_seconds": settings.idle_timeout_seconds}
    # Scheme defaults first, then the force's own values over them.
    for row in s.scalars(
        select(models.Setting)
        .where(or_(models.Setting.force_id.is_(None), models.Setting.force_id == device.force_id))
        .order_by(models.Setting.force_id.is_not(None), models.Setting.id)
    ):
        if row.key in _SETTINGS_KEYS:
            values[row.key] = row.value.get("value")
    data = protocol.Settings.model_validate(values).model_dump(mode="json")
    return protocol.Change(seq=seq, kind="settings", op="upsert", id="settings", data=data)
