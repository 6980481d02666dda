"""10,000 events through a hostile network: the server ends with exactly those events."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

import pytest
import tenacity
from sqlalchemy import select

from kiosk_app.store import repos
from kiosk_app.store.models import JournalEvent
from kiosk_app.sync.engine import Outcome
from kiosk_app.sync.push import wire_event
from kiosk_app.sync.transport import RetryPolicy
from sync_server import models
from tests.support.live_server import LiveServer
from tests.support.world import PROGRAMME_ID, World
from tests.sync.faults import FaultProxy, random_plan
from tests.sync.kiosks import Kiosk, queue_events

EVENTS = 10_000
# Reads time out well before a stall ends, so stalls are felt; retries are immediate.
HOSTILE = RetryPolicy(attempts=6, wait=tenacity.wait_none(), connect_timeout=2, read_timeout=1.0)


@pytest.mark.slow
def test_ten_thousand_events_arrive_exactly_once_through_resets_stalls_and_drops(
    server: LiveServer, world: World, make_kiosk: Callable[..., Kiosk]
) -> None:
    kiosk = make_kiosk(retry=HOSTILE)
    assert kiosk.enrol(server.url, world.code()).first_sync.ok
    slip = kiosk.officer.register(
        first_name="Pat",
        force_reference="NC/10000",
        programme_id=PROGRAMME_ID,
        disposal_type="community_resolution",
        due_date=date(2026, 4, 1),
    )
    queue_events(
        kiosk, participant_id=slip.participant_id, enrolment_id=slip.enrolment_id, count=EVENTS
    )
    with kiosk.store.unit() as s:
        device_id = repos.device(s).device_id
        local = {
            row.id: wire_event(row, device_id=str(device_id)).content_hash()
            for row in s.scalars(select(JournalEvent))
        }
    assert len(local) == EVENTS + 2

    outcomes: list[Outcome] = []
    deadline = time.monotonic() + 50
    with FaultProxy(server.port, plan=random_plan(seed=5)) as proxy:
        with kiosk.store.unit() as s:
            repos.device(s).server_url = proxy.url
        while kiosk.unacked() and time.monotonic() < deadline:
            outcomes.append(kiosk.engine.run_once(force=True).outcome)
        connections = proxy.connections
    assert kiosk.unacked() == 0, f"still waiting after {len(outcomes)} runs: {outcomes}"
    assert connections >= 6  # every kind of fault was dealt at least once

    with world.sessions() as s:
        stored = dict(
            s.execute(
                select(models.Event.id, models.Event.content_hash).where(
                    models.Event.device_id == device_id
                )
            ).all()
        )
    assert stored == local  # every event, once, with the content the kiosk made
    with kiosk.store.unit() as s:
        statuses = set(s.scalars(select(JournalEvent.sync_status)))
    # Answers lost after the server committed came back as duplicates, and counted as done.
    assert statuses == {"accepted", "duplicate"}
