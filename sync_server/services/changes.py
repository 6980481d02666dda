"""The change log: every change a device may need to pull, in commit order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from sync_server import models, protocol
from sync_server.db import sqlite_timestamp


def record_change(
    s: Session,
    *,
    kind: models.ChangeKind,
    entity_id: str,
    force_id: str | None,
    site_id: str | None,
    at: datetime,
    op: str = "upsert",
) -> None:
    """Append a change; `site_id=None` reaches every site of the force."""
    s.add(
        models.Change(
            kind=kind, entity_id=entity_id, force_id=force_id, site_id=site_id, op=op, at=at
        )
    )


# Events that change a participant rather than an enrolment's progress; the participant's
# state travels as a "participant" change instead.
_PARTICIPANT_EVENTS = frozenset(
    {
        "pin.changed",
        "pin.reset",
        "participant.unlocked",
        "login.failed",
        "session.started",
        "session.ended",
    }
)


def record_events(
    s: Session,
    *,
    device: models.Device,
    events: Iterable[protocol.SyncEvent],
    at: datetime,
) -> int:
    """Append an "event" change for each newly stored progress event of an enrolment.

    Other devices of the site pull them, so a participant can go on with a programme on
    another kiosk; the pushing device skips its own. Call in the ingest transaction, after
    the events are stored and under the change-log lock, with `events` in device order (seq,
    then id), as ingest checks them. Answers how many were recorded.
    """
    ids = [
        event.id
        for event in events
        if event.enrolment_id is not None and event.type not in _PARTICIPANT_EVENTS
    ]
    record_changes(
        s,
        [(models.ChangeKind.EVENT, i) for i in ids],
        force_id=device.force_id,
        site_id=device.site_id,
        at=at,
    )
    return len(ids)


def record_changes(
    s: Session,
    changes: Sequence[tuple[models.ChangeKind, str]],
    *,
    force_id: str | None,
    site_id: str | None,
    at: datetime,
) -> None:
    """Append an upsert change for each (kind, entity id), in order, in one statement.

    A push records up to a thousand: on SQLite one driver executemany, as ingest stores
    events; elsewhere one Core insert."""
    if not changes:
        return
    if s.get_bind().dialect.name == "sqlite":
        stamp = sqlite_timestamp(at)
        s.connection().exec_driver_sql(
            "INSERT INTO changes (force_id, site_id, kind, entity_id, op, at) "
            "VALUES (?, ?, ?, ?, 'upsert', ?)",
            [(force_id, site_id, kind.value, entity_id, stamp) for kind, entity_id in changes],
        )
        return
    s.execute(
        insert(models.Change),
        [
            {
                "kind": kind,
                "entity_id": entity_id,
                "force_id": force_id,
                "site_id": site_id,
                "op": "upsert",
                "at": at,
            }
            for kind, entity_id in changes
        ],
    )
