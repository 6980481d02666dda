"""The kiosk's own sync client pushing 10,000 queued events to a real server on loopback."""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert, select, update

from benchmarks.report import Line
from kiosk_app.store import journal
from kiosk_app.store.models import Counter, JournalEvent
from sync_server.db import make_engine, session_factory, upgrade
from sync_server.settings import Settings
from tests.support.journeys import whole_programme
from tests.support.live_server import ServerProcess
from tests.support.world import PROGRAMME_ID, World, make_world
from tests.sync.kiosks import Kiosk, open_kiosk

EVENTS = 10_000
PARTICIPANTS = 100  # a custody kiosk offline for a few weeks
BUDGET_S = 5.0


def _register(kiosk: Kiosk) -> list[tuple[str, str]]:
    """PARTICIPANTS registered offline by an officer: (participant id, enrolment id) each."""
    made = []
    for i in range(PARTICIPANTS):
        slip = kiosk.officer.register(
            first_name=f"P{i}",
            force_reference=f"BENCH/{i:04d}",
            programme_id=PROGRAMME_ID,
            disposal_type="community_resolution",
            due_date=date.today() + timedelta(days=28),
        )
        made.append((slip.participant_id, slip.enrolment_id))
    return made


def _queue_work(kiosk: Kiosk, world: World, people: list[tuple[str, str]], total: int) -> None:
    """Journal events of people working through the programme, `total` in all, written in
    bulk (the journal's own path costs ~2 ms an event and is not what is measured here)."""
    plan = whole_programme(world.programme)
    now = kiosk.clock.now()
    with kiosk.store.unit() as s:
        start = s.scalar(select(Counter.value).where(Counter.name == journal.SEQ_COUNTER)) or 0
        rows = []
        for i in range(total):
            participant_id, enrolment_id = people[i % len(people)]
            step_id, (kind, data) = plan[(i // len(people)) % len(plan)]
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "seq": start + i + 1,
                    "participant_id": participant_id,
                    "enrolment_id": enrolment_id,
                    "type": kind,
                    "step_id": step_id,
                    "data": data,
                    "occurred_at": now + timedelta(milliseconds=i),
                    "monotonic_ms": i,
                }
            )
        s.execute(insert(JournalEvent), rows)
        s.execute(
            update(Counter).where(Counter.name == journal.SEQ_COUNTER).values(value=start + total)
        )


def kiosk_push_budgets(workdir: Path) -> list[Line]:
    settings = Settings(
        database_url=f"sqlite:///{workdir / 'server.sqlite3'}", data_dir=workdir / "data"
    )
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        world = make_world(settings, session_factory(engine), workdir)
        with ServerProcess(settings) as server:
            kiosk = open_kiosk(workdir / "kiosk")
            try:
                kiosk.enrol(server.url, world.code())
                people = _register(kiosk)
                empty = []
                # The registrations go first, then an idle sync is the reference.
                kiosk.engine.run_once(force=True)
                for _ in range(5):
                    started = time.perf_counter()
                    kiosk.engine.run_once(force=True)
                    empty.append(time.perf_counter() - started)
                _queue_work(kiosk, world, people, EVENTS)
                started = time.perf_counter()
                result = kiosk.engine.run_once(force=True)
                took = time.perf_counter() - started
                waiting = kiosk.unacked()
            finally:
                kiosk.close()
    finally:
        engine.dispose()
    if not result.ok or waiting:
        return [
            Line(
                f"push of {EVENTS:,} events, kiosk to server",
                f"sync failed: {result.outcome.value}, {waiting} events not acknowledged",
                "",
                f"<= {BUDGET_S:.0f} s",
                "FAIL",
            )
        ]
    return [
        Line(
            f"push of {EVENTS:,} events, kiosk to server (loopback, SQLite)",
            f"{took:.2f} s ({EVENTS / took:,.0f} events/s; {PARTICIPANTS} participants)",
            f"sync with nothing queued {statistics.median(empty) * 1000:.0f} ms",
            f"<= {BUDGET_S:.0f} s",
            "PASS" if took <= BUDGET_S else "FAIL",
        )
    ]
