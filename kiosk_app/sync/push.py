"""The push stage: the journal's unacknowledged events, in batches within the server's limits.

An event is marked acknowledged only after the server answered for it: accepted and
duplicate are done; conflict is final (logged, never sent again); rejected is kept with the
server's reason and not sent again. No transaction is open while a batch is on the wire.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kiosk_app.store.db import Store
from kiosk_app.store.models import JournalEvent
from kiosk_app.sync.transport import TransientError, Transport
from sync_server import protocol

log = logging.getLogger(__name__)

_OPEN = b'{"events":['
_CLOSE = b"]}"


@dataclass(frozen=True, slots=True)
class PushReport:
    accepted: int = 0
    duplicate: int = 0
    conflict: int = 0
    rejected: int = 0

    def __add__(self, other: PushReport) -> PushReport:
        return PushReport(
            self.accepted + other.accepted,
            self.duplicate + other.duplicate,
            self.conflict + other.conflict,
            self.rejected + other.rejected,
        )


@dataclass(frozen=True, slots=True)
class _Batch:
    body: bytes
    ids: tuple[str, ...]
    invalid: tuple[tuple[str, str], ...]  # (event id, why) refused before sending


class JournalRow(Protocol):
    """A journal entry as push reads it: the ORM object, or a plain row of its columns."""

    @property
    def id(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def participant_id(self) -> str: ...
    @property
    def enrolment_id(self) -> str | None: ...
    @property
    def type(self) -> str: ...
    @property
    def step_id(self) -> str | None: ...
    @property
    def data(self) -> dict[str, Any]: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def monotonic_ms(self) -> int: ...


# Plain rows, not ORM objects: a 1,000-event batch has no use for an identity map.
_UNACKED = (
    select(
        JournalEvent.id,
        JournalEvent.seq,
        JournalEvent.participant_id,
        JournalEvent.enrolment_id,
        JournalEvent.type,
        JournalEvent.step_id,
        JournalEvent.data,
        JournalEvent.occurred_at,
        JournalEvent.monotonic_ms,
    )
    .where(JournalEvent.acked_at.is_(None))
    .order_by(JournalEvent.seq)
)


def wire_event(row: JournalRow, *, device_id: str) -> protocol.SyncEvent:
    """A journal row as the server receives it."""
    return protocol.SyncEvent(
        id=row.id,
        device_id=device_id,
        seq=row.seq,
        participant_id=row.participant_id,
        enrolment_id=row.enrolment_id,
        type=row.type,  # type: ignore[arg-type]  # validated here, against the protocol
        step_id=row.step_id,
        data=row.data,
        occurred_at=row.occurred_at,
        monotonic_ms=row.monotonic_ms,
    )


def batch(
    rows: Sequence[JournalRow],
    *,
    device_id: str,
    max_events: int = protocol.MAX_EVENTS_PER_PUSH,
    max_bytes: int = protocol.MAX_PUSH_BYTES,
) -> _Batch:
    """The longest prefix of `rows` whose PushRequest body fits both limits."""
    parts: list[bytes] = []
    ids: list[str] = []
    invalid: list[tuple[str, str]] = []
    size = len(_OPEN) + len(_CLOSE)
    for row in rows:
        if len(parts) >= max_events:
            break
        try:
            encoded = wire_event(row, device_id=device_id).model_dump_json().encode()
        except ValidationError as exc:
            # It can never be sent; keep it, marked, so it does not block the queue.
            invalid.append((row.id, f"not a valid event: {exc.errors()[0]['msg']}"[:500]))
            continue
        extra = len(encoded) + (1 if parts else 0)
        if size + extra > max_bytes:
            break
        parts.append(encoded)
        ids.append(row.id)
        size += extra
    return _Batch(_OPEN + b",".join(parts) + _CLOSE, tuple(ids), tuple(invalid))


def push_stage(
    *,
    store: Store,
    transport: Transport,
    device_id: str,
    now: datetime,
    max_events: int = protocol.MAX_EVENTS_PER_PUSH,
    max_bytes: int = protocol.MAX_PUSH_BYTES,
) -> PushReport:
    """Push until the journal holds nothing unacknowledged (events recorded meanwhile too)."""
    total = PushReport()
    while True:
        with store.unit() as s:
            rows: Sequence[JournalRow] = s.execute(_UNACKED.limit(max_events)).all()
            planned = batch(rows, device_id=device_id, max_events=max_events, max_bytes=max_bytes)
            for event_id, why in planned.invalid:
                _answer(s, [event_id], "rejected", why, now)
        if planned.invalid:
            log.warning("%d journal events are invalid and were set aside", len(planned.invalid))
        if not planned.ids:
            if planned.invalid:
                continue
            return total
        answer = transport.push(planned.body)
        total = total + _record(store, planned.ids, answer.results, now)


def _record(
    store: Store, sent: Sequence[str], results: Sequence[protocol.EventResult], now: datetime
) -> PushReport:
    by_id = {r.id: r for r in results}
    answered = [by_id[i] for i in sent if i in by_id]
    done: dict[str, list[str]] = {"accepted": [], "duplicate": []}
    with store.unit() as s:
        for result in answered:
            if result.status in done:
                done[result.status].append(result.id)
                continue
            _answer(s, [result.id], result.status, result.reason, now)
            if result.status == "conflict":
                log.warning(
                    "event %s conflicts with the server's copy; kept, not resent", result.id
                )
            else:
                log.warning("event %s rejected by the server: %s", result.id, result.reason)
        for status, ids in done.items():
            _answer(s, ids, status, None, now)
    if len(answered) < len(sent):
        # Recorded answers stand; the rest are sent again in the next batch.
        raise TransientError(f"the server answered for {len(answered)} of {len(sent)} events")
    count = {status: sum(r.status == status for r in answered) for status in _STATUSES}
    return PushReport(**count)


_STATUSES = ("accepted", "duplicate", "conflict", "rejected")


def _answer(
    s: Session, event_ids: Sequence[str], status: str, reason: str | None, now: datetime
) -> None:
    if event_ids:
        s.execute(
            update(JournalEvent)
            .where(JournalEvent.id.in_(event_ids), JournalEvent.acked_at.is_(None))
            .values(acked_at=now, sync_status=status, sync_reason=reason)
            .execution_options(synchronize_session=False)
        )
