"""The push stage: batches within the server's limits; answers recorded, conflicts final."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, update

from kiosk_app.core.officer import Credentials
from kiosk_app.store import journal
from kiosk_app.store.models import JournalEvent
from kiosk_app.sync.push import batch
from sync_server import models, protocol
from tests.support.live_server import LiveServer
from tests.support.world import PROGRAMME_ID, World
from tests.sync.faults import FaultProxy
from tests.sync.kiosks import Kiosk, queue_events

DEVICE = "5f0c7a1e-0000-4000-8000-000000000001"


def _row(seq: int, text_bytes: int) -> JournalEvent:
    return JournalEvent(
        id=str(uuid.uuid4()),
        seq=seq,
        participant_id=str(uuid.uuid4()),
        enrolment_id=str(uuid.uuid4()),
        type="reflection.submitted",
        step_id="what-happened",
        data={"text": "w" * text_bytes},
        occurred_at=datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
        monotonic_ms=seq,
        acked_at=None,
    )


@pytest.mark.parametrize(
    ("count", "text_bytes", "max_events", "max_bytes", "expected"),
    [
        (10, 10, 4, 1_000_000, 4),  # the count limit
        (10, 1_000, 1000, 5_000, 3),  # the byte limit (each event is ~1.3 kB encoded)
        (3, 10, 1000, 1_000_000, 3),  # everything fits
        (2, 60_000, 1000, 61_000, 1),  # one big event alone
    ],
)
def test_a_batch_is_the_longest_prefix_within_both_limits(
    count: int, text_bytes: int, max_events: int, max_bytes: int, expected: int
) -> None:
    rows = [_row(seq, text_bytes) for seq in range(1, count + 1)]
    planned = batch(rows, device_id=DEVICE, max_events=max_events, max_bytes=max_bytes)
    assert planned.ids == tuple(r.id for r in rows[:expected])
    assert len(planned.body) <= max_bytes
    request = protocol.PushRequest.model_validate_json(planned.body)
    assert [e.id for e in request.events] == list(planned.ids)
    assert {e.device_id for e in request.events} == {DEVICE}


def test_the_full_protocol_limits_hold_for_a_real_backlog() -> None:
    rows = [_row(seq, 20_000) for seq in range(1, 120)] + [_row(200 + i, 5) for i in range(2000)]
    sent: list[str] = []
    while rows:
        planned = batch(rows, device_id=DEVICE)
        assert 0 < len(planned.ids) <= protocol.MAX_EVENTS_PER_PUSH
        assert len(planned.body) <= protocol.MAX_PUSH_BYTES
        sent.extend(planned.ids)
        rows = rows[len(planned.ids) :]
    assert len(sent) == len(set(sent)) == 119 + 2000


def _registered(kiosk: Kiosk) -> Credentials:
    return kiosk.officer.register(
        first_name="Sam",
        force_reference="NC/1",
        programme_id=PROGRAMME_ID,
        disposal_type="community_resolution",
        due_date=date(2026, 4, 1),
    )


def _record(kiosk: Kiosk, slip: Credentials, n: int, *, text: str = "") -> None:
    with kiosk.store.unit() as s:
        for i in range(n):
            journal.record(
                s,
                event_type="reflection.submitted" if text else "step.viewed",
                participant_id=slip.participant_id,
                enrolment_id=slip.enrolment_id,
                step_id="welcome",
                data={"text": text} if text else {"dwell_ms": 1000 + i},
                clock=kiosk.clock,
            )


def _server_events(world: World, participant_id: str) -> int:
    with world.sessions() as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(models.Event)
                .where(models.Event.participant_id == participant_id)
            )
            or 0
        )


def test_a_backlog_goes_in_batches_within_the_limits_and_is_all_acknowledged(
    server: LiveServer, world: World, make_kiosk: Callable[..., Kiosk]
) -> None:
    kiosk = make_kiosk()
    with FaultProxy(server.port) as proxy:
        assert kiosk.enrol(proxy.url, world.code()).first_sync.ok
        slip = _registered(kiosk)
        queue_events(
            kiosk, participant_id=slip.participant_id, enrolment_id=slip.enrolment_id, count=1_100
        )
        _record(kiosk, slip, 60, text="word " * 4_000)  # 20 kB each: over 1 MB in all
        result = kiosk.engine.run_once()
        pushes = [r for r in proxy.requests_seen if r.startswith(b"POST /api/v1/sync/push")]
    assert result.ok, result.error
    assert result.pushed.accepted == 2 + 1_100 + 60
    # 1,000 by count; then the other 102 small ones and as many 20 kB ones as fit in 1 MB;
    # then the rest of the big ones.
    assert len(pushes) == 3
    assert kiosk.unacked() == 0
    assert _server_events(world, slip.participant_id) == 1_162


def test_a_conflict_is_final_kept_and_never_sent_again(
    server: LiveServer, world: World, make_kiosk: Callable[..., Kiosk]
) -> None:
    kiosk = make_kiosk()
    assert kiosk.enrol(server.url, world.code()).first_sync.ok
    slip = _registered(kiosk)
    _record(kiosk, slip, 1)
    assert kiosk.engine.run_once().ok
    with kiosk.store.unit() as s:
        row = s.scalars(select(JournalEvent).where(JournalEvent.type == "step.viewed")).one()
        s.execute(
            update(JournalEvent)
            .where(JournalEvent.id == row.id)
            .values(data={"dwell_ms": 999_999}, acked_at=None, sync_status=None)
        )
        changed = row.id
    result = kiosk.engine.run_once()
    assert result.ok
    assert (result.pushed.conflict, result.pushed.accepted) == (1, 0)
    with kiosk.store.unit() as s:
        row = s.get_one(JournalEvent, changed)
        assert (row.sync_status, row.acked_at is not None) == ("conflict", True)
    again = kiosk.engine.run_once()
    assert again.ok
    assert again.pushed.conflict == again.pushed.accepted == 0
    with world.sessions() as s:
        stored = s.get_one(models.Event, changed)
        assert stored.data == {"dwell_ms": 1000}


def test_a_rejected_event_keeps_the_servers_reason_and_is_not_resent(
    server: LiveServer, world: World, make_kiosk: Callable[..., Kiosk]
) -> None:
    kiosk = make_kiosk()
    assert kiosk.enrol(server.url, world.code()).first_sync.ok
    slip = _registered(kiosk)
    with kiosk.store.unit() as s:
        stray = journal.record(
            s,
            event_type="step.viewed",
            participant_id=slip.participant_id,
            enrolment_id=str(uuid.uuid4()),  # no such enrolment on the server
            step_id="welcome",
            data={"dwell_ms": 5},
            clock=kiosk.clock,
        ).id
    result = kiosk.engine.run_once()
    assert result.ok
    assert (result.pushed.accepted, result.pushed.rejected) == (2, 1)
    with kiosk.store.unit() as s:
        row = s.get_one(JournalEvent, stray)
        assert (row.sync_status, row.sync_reason) == ("rejected", "unknown_enrolment")
    assert kiosk.engine.run_once().pushed.rejected == 0
    assert kiosk.unacked() == 0
