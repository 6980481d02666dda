"""The append-only event journal: recorded in the caller's transaction, never committed here."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import JsonValue
from sqlalchemy import select, update
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


def _next_seq(s: Session) -> int:
    # One UPDATE ... RETURNING inside the caller's (IMMEDIATE) transaction: atomic, and
    # rolled back with the event if the unit fails, so seq never has gaps or repeats. On the
    # table, not the mapped class: the ORM's bulk-update bookkeeping cost a step change 2 ms.
    counters = table_of(Counter)
    value = s.scalar(
        update(counters)
        .where(counters.c.name == SEQ_COUNTER)
        .values(value=counters.c.value + 1)
        .returning(counters.c.value)
    )
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
    """Append one event in the session's transaction (commit it with the state it changes)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"{event_type!r} is not an event type of the sync protocol")
    payload = dict(data or {})
    if len(canonical_json(payload)) > MAX_EVENT_DATA_BYTES:
        raise ValueError(f"event data is larger than {MAX_EVENT_DATA_BYTES} bytes")
    event = JournalEvent(
        id=str(uuid.uuid4()),
        seq=_next_seq(s),
        participant_id=participant_id,
        enrolment_id=enrolment_id,
        type=event_type,
        step_id=step_id,
        data=payload,
        occurred_at=clock.now(),
        monotonic_ms=clock.monotonic_ms(),
        acked_at=None,
    )
    s.add(event)
    s.flush()
    return event


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
