"""Server budgets over real HTTP on loopback: ingest, empty pull, a 10,000-event push, load."""

from __future__ import annotations

import json
import sqlite3
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import httpx2
from sqlalchemy import Table
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from benchmarks.report import Line
from sync_server import models, protocol
from sync_server.db import make_engine, session_factory, upgrade
from sync_server.settings import Settings
from tests.support import journeys
from tests.support.device import Registration, TestDevice
from tests.support.live_server import ServerProcess
from tests.support.world import PROGRAMME_ID, World, make_world

BATCH = protocol.MAX_EVENTS_PER_PUSH
INGEST_EVENTS = 100_000
# A realistic enrolment holds about 50-150 events (one run through the sample programme is
# 14), so each participant gets about 100; registering them is set-up, not timed.
EVENTS_PER_ENROLMENT = 100
INGEST_PARTICIPANTS = INGEST_EVENTS // EVENTS_PER_ENROLMENT
# A kiosk serves one participant at a time, so its journal holds runs of one enrolment's
# events; a batch of 1,000 spans about 40 such sessions.
SESSION_EVENTS = 25
PUSH_EVENTS = 10_000
PULLS = 200
LOAD_DEVICES = 50
LOAD_SECONDS = 15.0
SINGLE_SECONDS = 3.0
LOAD_BATCH = 20
LOAD_SITE = "north-library"
PUSH_PATH = "/api/v1/sync/push"
PULL_PATH = "/api/v1/sync/pull"


def _raw_schema() -> list[str]:
    """The server's own events table and indexes, as SQLite DDL: the reference writes the same
    rows into the same structure, so the budget measures our code, not our choice of indexes."""
    table = cast(Table, models.Event.__table__)
    dialect = sqlite.dialect()
    statements = [str(CreateTable(table).compile(dialect=dialect))]
    statements += [str(CreateIndex(index).compile(dialect=dialect)) for index in table.indexes]
    return statements


_RAW_INSERT = "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
RawRow = tuple[str, str, int, str, str | None, str, str | None, str, str, int, str, str]


@dataclass(frozen=True)
class _Rig:
    """A migrated SQLite file with the sample world, served by its own uvicorn process."""

    world: World
    url: str
    http: httpx2.Client

    def device(self, site: str = "north-custody") -> TestDevice:
        device = TestDevice(self.http, self.url)
        device.enrol(self.world.code(site))
        return device


@contextmanager
def _running_server(workdir: Path) -> Iterator[_Rig]:
    settings = Settings(
        database_url=f"sqlite:///{workdir / 'server.sqlite3'}", data_dir=workdir / "data"
    )
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        world = make_world(settings, session_factory(engine), workdir)
        # A process of its own: the client's JSON and signing must not share the server's GIL.
        with ServerProcess(settings) as server, httpx2.Client(timeout=120.0) as http:
            yield _Rig(world, server.url, http)
    finally:
        engine.dispose()


def _percentile(values: Sequence[float], pct: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _body(events: Sequence[protocol.SyncEvent]) -> bytes:
    return json.dumps({"events": [e.model_dump(mode="json") for e in events]}).encode()


def _accepted(response: httpx2.Response) -> int:
    if response.status_code != 200:
        raise RuntimeError(f"push answered {response.status_code}: {response.text[:500]}")
    # Counting the marker keeps the client's parsing out of the measure.
    return response.content.count(b'"status":"accepted"')


def _push_all(device: TestDevice, events: Sequence[protocol.SyncEvent]) -> None:
    for start in range(0, len(events), BATCH):
        batch = events[start : start + BATCH]
        if _accepted(device.push(list(batch))) != len(batch):
            raise RuntimeError("setup push was not accepted in full")


def _participants(device: TestDevice, count: int) -> list[Registration]:
    """`count` participants registered by `device` and assigned the sample programme."""
    registrations = [
        device.register(first_name=f"P{i}", programme_id=PROGRAMME_ID) for i in range(count)
    ]
    _push_all(device, [e for r in registrations for e in r.events])
    return registrations


def _activity(
    device: TestDevice, world: World, registrations: Sequence[Registration], total: int
) -> list[protocol.SyncEvent]:
    """`total` step events in sessions of SESSION_EVENTS, participants taking turns."""
    plan = journeys.whole_programme(world.programme)
    start = datetime.now(UTC) - timedelta(days=1)
    events: list[protocol.SyncEvent] = []
    done = [0] * len(registrations)
    turn = 0
    while len(events) < total:
        who = turn % len(registrations)
        registration = registrations[who]
        for _ in range(min(SESSION_EVENTS, total - len(events))):
            step_id, (kind, data) = plan[done[who] % len(plan)]
            done[who] += 1
            events.append(
                device.event(
                    kind,
                    participant_id=registration.participant_id,
                    enrolment_id=registration.enrolment_id,
                    step_id=step_id,
                    data=data,
                    occurred_at=start + timedelta(milliseconds=len(events)),
                )
            )
        turn += 1
    return events


def _raw_rows(events: Sequence[protocol.SyncEvent], received_at: datetime) -> list[RawRow]:
    return [
        (
            e.id,
            e.device_id,
            e.seq,
            e.participant_id,
            e.enrolment_id,
            e.type,
            e.step_id,
            json.dumps(e.data),
            str(e.occurred_at.replace(tzinfo=None)),
            e.monotonic_ms,
            str(received_at.replace(tzinfo=None)),
            e.content_hash(),
        )
        for e in events
    ]


def _raw_sqlite_seconds(rows: Sequence[RawRow], path: Path) -> float:
    """stdlib sqlite3 executemany of `rows`, a transaction per BATCH, the server's pragmas."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA cache_size=-65536")  # as sync_server.db sets it
        for statement in _raw_schema():
            conn.execute(statement)
        start = time.perf_counter()
        for first in range(0, len(rows), BATCH):
            conn.execute("BEGIN")
            conn.executemany(_RAW_INSERT, rows[first : first + BATCH])
            conn.execute("COMMIT")
        return time.perf_counter() - start
    finally:
        conn.close()


def _ingest(rig: _Rig, workdir: Path) -> Line:
    device = rig.device()
    registrations = _participants(device, INGEST_PARTICIPANTS)
    events = _activity(device, rig.world, registrations, INGEST_EVENTS)
    # Every body built and signed before the clock starts: only the server is measured.
    requests = [
        device.signed("POST", PUSH_PATH, body=_body(events[i : i + BATCH]))
        for i in range(0, len(events), BATCH)
    ]
    batch_seconds: list[float] = []
    accepted = 0
    start = time.perf_counter()
    for request in requests:
        sent = time.perf_counter()
        accepted += _accepted(device.send(request))
        batch_seconds.append(time.perf_counter() - sent)
    ours_s = time.perf_counter() - start
    if accepted != len(events):
        raise RuntimeError(f"ingest accepted {accepted} of {len(events)} events")
    rows = _raw_rows(events, datetime.now(UTC))
    raw_s = statistics.median(_raw_sqlite_seconds(rows, workdir / "raw.sqlite3") for _ in range(3))
    ours_rate, raw_rate = len(events) / ours_s, len(rows) / raw_s
    share = ours_rate / raw_rate
    return Line(
        f"server ingest, SQLite ({len(events):,} events, batches of {BATCH:,})",
        f"{ours_rate:,.0f} events/s ({share:.1%} of raw; batch median "
        f"{_ms(statistics.median(batch_seconds))})",
        f"raw sqlite3 executemany {raw_rate:,.0f} rows/s",
        ">= 30 % of raw",
        "PASS" if share >= 0.30 else "FAIL",
    )


def _latest_cursor(device: TestDevice) -> str:
    cursor = ""
    while True:
        response = device.pull(cursor)
        if response.status_code != 200:
            raise RuntimeError(f"pull answered {response.status_code}: {response.text[:500]}")
        page = protocol.PullResponse.model_validate_json(response.content)
        cursor = page.next_cursor
        if not page.more:
            return cursor


def _round_trips(send: Callable[[], httpx2.Response], count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        response = send()
        times.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise RuntimeError(f"answered {response.status_code}: {response.text[:500]}")
    return times


def _empty_pull(rig: _Rig) -> Line:
    device = rig.device()
    cursor = _latest_cursor(device)
    requests = iter([device.signed("GET", f"{PULL_PATH}?cursor={cursor}") for _ in range(PULLS)])
    probe = device.pull(cursor)
    if protocol.PullResponse.model_validate_json(probe.content).changes:
        raise RuntimeError("the pull at the latest cursor was not empty")
    pulls = _round_trips(lambda: device.send(next(requests)), PULLS)
    health = _round_trips(lambda: rig.http.get(f"{rig.url}/health"), PULLS)
    median = statistics.median(pulls)
    return Line(
        f"empty pull round trip (median of {PULLS}, pre-signed)",
        f"{_ms(median)} (p95 {_ms(_percentile(pulls, 95))})",
        f"GET /health {_ms(statistics.median(health))} (p95 {_ms(_percentile(health, 95))})",
        "<= 20 ms median",
        "PASS" if median <= 0.020 else "FAIL",
    )


def _push_queue(rig: _Rig) -> Line:
    device = rig.device()
    registrations = _participants(device, PUSH_EVENTS // EVENTS_PER_ENROLMENT)
    events = _activity(device, rig.world, registrations, PUSH_EVENTS)
    # The journal already holds the events; serialising and signing each batch is timed.
    start = time.perf_counter()
    accepted = sum(
        _accepted(device.push(list(events[i : i + BATCH]))) for i in range(0, len(events), BATCH)
    )
    seconds = time.perf_counter() - start
    if accepted != len(events):
        raise RuntimeError(f"push accepted {accepted} of {len(events)} events")
    return Line(
        f"push {PUSH_EVENTS:,} events, protocol only (kiosk client: issue #5)",
        f"{seconds:.2f} s ({len(events) // BATCH} signed batches of {BATCH:,})",
        f"{PUSH_EVENTS / seconds:,.0f} events/s, one TestDevice",
        "<= 5 s",
        "PASS" if seconds <= 5 else "FAIL",
    )


def _simulate(
    devices: Sequence[TestDevice], seconds: float, world: World
) -> tuple[float, list[float]]:
    """Each device pushes LOAD_BATCH events then pulls, in a loop; events/s and latencies."""
    steps = [step_id for step_id, _ in journeys.whole_programme(world.programme)]
    setups = [(d, _participants(d, 1)[0], _latest_cursor(d)) for d in devices]
    lock = threading.Lock()
    latencies: list[float] = []
    accepted = [0]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(devices) + 1)
    deadline = [0.0]

    def work(device: TestDevice, who: Registration, cursor: str) -> None:
        mine: list[float] = []
        count = 0
        try:
            barrier.wait()
            while time.perf_counter() < deadline[0]:
                events = [
                    device.event(
                        "step.viewed",
                        participant_id=who.participant_id,
                        enrolment_id=who.enrolment_id,
                        step_id=steps[device.seq % len(steps)],
                        data={"dwell_ms": 5000},
                    )
                    for _ in range(LOAD_BATCH)
                ]
                start = time.perf_counter()
                count += _accepted(device.push(events))
                pulled = time.perf_counter()
                response = device.pull(cursor)
                done = time.perf_counter()
                if response.status_code != 200:
                    raise RuntimeError(f"pull answered {response.status_code}")
                cursor = protocol.PullResponse.model_validate_json(response.content).next_cursor
                mine += [pulled - start, done - pulled]
        except BaseException as exc:
            with lock:
                errors.append(exc)
        with lock:
            latencies.extend(mine)
            accepted[0] += count

    threads = [threading.Thread(target=work, args=setup, daemon=True) for setup in setups]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    start = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join(seconds + 120)
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} simulated devices failed") from errors[0]
    return accepted[0] / elapsed, latencies


def _load(rig: _Rig) -> Line:
    # Another site than the ingest's: its 100,000 events are not the load run's history, which
    # every simulated device would otherwise pull through first (one TestDevice page at a time).
    single_rate, _ = _simulate([rig.device(LOAD_SITE)], SINGLE_SECONDS, rig.world)
    # One connection pool per device, as each kiosk has its own.
    clients = [httpx2.Client(timeout=120.0) for _ in range(LOAD_DEVICES)]
    try:
        devices = []
        for client in clients:
            device = TestDevice(client, rig.url)
            device.enrol(rig.world.code(LOAD_SITE))
            devices.append(device)
        rate, latencies = _simulate(devices, LOAD_SECONDS, rig.world)
    finally:
        for client in clients:
            client.close()
    return Line(
        f"load: {LOAD_DEVICES} devices pushing {LOAD_BATCH} + pulling, {LOAD_SECONDS:.0f} s",
        f"{rate:,.0f} events/s accepted (request p99 {_ms(_percentile(latencies, 99))}, "
        f"median {_ms(statistics.median(latencies))})",
        f"one device {single_rate:,.0f} events/s",
        "(no budget; shown for the issue)",
        "INFO",
    )


def server_budgets(workdir: Path) -> list[Line]:
    with _running_server(workdir) as rig:
        return [_ingest(rig, workdir), _empty_pull(rig), _push_queue(rig), _load(rig)]
