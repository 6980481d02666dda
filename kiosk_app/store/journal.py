"""The append-only event journal: recorded in the caller's transaction, never committed here."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import JsonValue
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from content_packs.model import Event
from kiosk_app.store import repos
from kiosk_app.store.models import Counter, JournalEvent, ReviewVerdict, table_of
from sync_server.protocol import (
    EVENT_TYPES,
    MAX_EVENT_DATA_BYTES,
    canonical_json,
    review_rule_event,
)

SEQ_COUNTER = "journal_seq"


class JournalClock(Protocol):
    def now(self) -> datetime: ...

    def monotonic_ms(self) -> int: ...


_COUNTERS = table_of(Counter)
_JOURNAL = table_of(JournalEvent)
# Built once: each step change records an event, and SQLAlchemy reuses the compiled form.
_ADVANCE_SEQ = (
    update(_COUNTERS)
    .where(_COUNTERS.c.name == SEQ_COUNTER)
    .values(value=_COUNTERS.c.value + 1)
    .returning(_COUNTERS.c.value)
)
_INSERT_EVENT = insert(_JOURNAL)


def _next_seq(s: Session) -> int:
    # One UPDATE ... RETURNING inside the caller's (IMMEDIATE) transaction: atomic, and
    # rolled back with the event if the unit fails, so seq never has gaps or repeats. On the
    # table and the session's connection, not the mapped class: the ORM's bookkeeping cost a
    # step change 2 ms.
    value = s.connection().execute(_ADVANCE_SEQ).scalar()
    if value is None:
        s.add(Counter(name=SEQ_COUNTER, value=1))
        s.flush()
        return 1
    return int(value)


def record(
    s: Session,
    *,
    event_type: str,
    participant_id: str,
    enrolment_id: str | None = None,
    step_id: str | None = None,
    data: Mapping[str, JsonValue] | None = None,
    clock: JournalClock,
) -> JournalEvent:
    """Append one event in the session's transaction (commit it with the state it changes).

    One INSERT on the session's connection, not an ORM flush (a step change records an event,
    and the unit of work cost it about 1.5 ms). The returned row is not in the session: read
    the event back with a query if the same unit needs it as a mapped object. Changes to
    mapped objects still pending in the session are flushed when the unit commits.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"{event_type!r} is not an event type of the sync protocol")
    payload = dict(data or {})
    if len(canonical_json(payload)) > MAX_EVENT_DATA_BYTES:
        raise ValueError(f"event data is larger than {MAX_EVENT_DATA_BYTES} bytes")
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "seq": _next_seq(s),
        "participant_id": participant_id,
        "enrolment_id": enrolment_id,
        "type": event_type,
        "step_id": step_id,
        "data": payload,
        "occurred_at": clock.now(),
        "monotonic_ms": clock.monotonic_ms(),
        "acked_at": None,
    }
    s.connection().execute(_INSERT_EVENT, values)
    return JournalEvent(**values)


def rule_event(row: JournalEvent) -> Event:
    """The event as `content_packs.progress` reads it."""
    data: dict[str, Any] = dict(row.data)
    return Event(
        id=row.id, type=row.type, step_id=row.step_id, occurred_at=row.occurred_at, data=data
    )


def verdict_rule_event(row: ReviewVerdict) -> Event:
    """An officer's verdict as the completion rules read it: the same event the server makes."""
    return review_rule_event(
        submission_id=row.submission_id,
        step_id=row.step_id,
        verdict=row.verdict,
        reviewed_at=row.reviewed_at,
    )


def enrolment_rule_events(s: Session, *, enrolment_id: str) -> list[Event]:
    """Everything the rules read for one enrolment: its journal, then the officer's verdicts
    (the server reads the same two sets, so both sides report the same review state)."""
    events = [rule_event(r) for r in enrolment_events(s, enrolment_id=enrolment_id)]
    verdicts = repos.review_verdicts(s, enrolment_id=enrolment_id)
    return events + [verdict_rule_event(v) for v in verdicts]


def enrolment_events(s: Session, *, enrolment_id: str) -> list[JournalEvent]:
    """Every journal event of one enrolment, in seq order."""
    return list(
        s.scalars(
            select(JournalEvent)
            .where(JournalEvent.enrolment_id == enrolment_id)
            .order_by(JournalEvent.seq)
        )
    )


def unacked(s: Session, *, limit: int) -> Sequence[JournalEvent]:
    """The oldest events the server has not acknowledged, in seq order (for the sync client)."""
    return s.scalars(
        select(JournalEvent)
        .where(JournalEvent.acked_at.is_(None))
        .order_by(JournalEvent.seq)
        .limit(limit)
    ).all()


def mark_acked(s: Session, *, event_ids: Iterable[str], at: datetime) -> int:
    """Mark events acknowledged by the server; returns how many changed."""
    ids = list(event_ids)
    if not ids:
        return 0
    result = s.execute(
        update(JournalEvent)
        .where(JournalEvent.id.in_(ids), JournalEvent.acked_at.is_(None))
        .values(acked_at=at)
    )
    return int(getattr(result, "rowcount", 0))
