"""Dashboard budgets on PostgreSQL at scheme scale: the overview and a filtered participant list.

A throwaway cluster is filled with 100,000 enrolments and about 5 million events by set-based
SQL (benchmarks.dashboard_data), then each page is timed twice: as the page handler calls it
(overview.overview / participants.search in a fresh session, with Staff built from a real
staff row), and as a signed-in browser gets it from a live uvicorn process. The reference is
the same page's main SQL run raw through psycopg in the same run.
"""

from __future__ import annotations

import secrets
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx2
from sqlalchemy import select

from benchmarks import dashboard_data
from benchmarks.report import Line
from sync_server.dashboard import overview, participants
from sync_server.dashboard.access import login_cookie, session_cookie
from sync_server.dashboard.auth import Staff
from sync_server.db import SessionFactory, make_engine, session_factory, upgrade
from sync_server.models import Role, StaffUser
from sync_server.services.admin import hash_password
from sync_server.settings import Settings
from tests.support.live_server import ServerProcess
from tests.support.postgres import PostgresCluster, PostgresNotFoundError

ENROLMENTS = 100_000
LOAD_WORKERS = 2
RUNS = 30
WARMUP = 3
BUDGET_SECONDS = 0.300
BUDGET = "<= 300 ms median"
DATABASE = "dashboard"
FORCE = "north"
PROGRAMME = "anti-theft"
DUE_WITHIN = timedelta(days=14)
PASSWORD = secrets.token_urlsafe(18)

_OVERVIEW_SQL = """
SELECT force_id, programme_id, site_id, status, count(*),
       sum(CASE WHEN status IN ('assigned', 'in_progress') AND due_date < %(today)s
                THEN 1 ELSE 0 END),
       sum(CASE WHEN status IN ('assigned', 'in_progress') AND due_date >= %(today)s
                     AND due_date < %(soon)s THEN 1 ELSE 0 END)
FROM enrolments AS e
WHERE {scope}
GROUP BY force_id, programme_id, site_id, status
"""
# overview._medians_postgresql, as it runs (work_mem as it sets it for its transaction).
_MEDIANS_SQL = """
SELECT programme_id, site_id, grouping(programme_id), grouping(site_id),
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM completed_at - assigned_at) / 86400.0)
FROM enrolments AS e
WHERE {scope} AND status = 'completed' AND completed_at IS NOT NULL
GROUP BY GROUPING SETS ((), (programme_id), (site_id))
"""
_LIST_WHERE = """
e.status = 'in_progress' AND e.programme_id = %(programme)s
AND e.due_date >= %(due_from)s AND e.due_date <= %(due_to)s AND {scope}
"""
_LIST_COUNT_SQL = f"SELECT count(*) FROM enrolments AS e WHERE {_LIST_WHERE}"
_LIST_PAGE_SQL = f"""
SELECT p.*, e.* FROM participants AS p JOIN enrolments AS e ON e.participant_id = p.id
WHERE {_LIST_WHERE} AND {{participant_scope}}
ORDER BY e.due_date, e.id LIMIT {participants.PAGE_SIZE}
"""


def _scoped(sql: str, staff: Staff) -> str:
    """`sql` limited to the staff member's force, as the dashboard's force filter does."""
    if staff.force_id is None:
        return sql.format(scope="true", participant_scope="true")
    return sql.format(scope="e.force_id = %(force)s", participant_scope="p.force_id = %(force)s")


@dataclass(frozen=True)
class Timing:
    median: float
    p95: float

    def __str__(self) -> str:
        return f"{self.median * 1000:.1f} ms (p95 {self.p95 * 1000:.1f})"


def _timed(call: Callable[[], object]) -> Timing:
    for _ in range(WARMUP):
        call()
    times: list[float] = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    p95 = statistics.quantiles(times, n=100, method="inclusive")[94]
    return Timing(statistics.median(times), p95)


@dataclass(frozen=True)
class _Who:
    label: str
    staff: Staff


def _add_staff(sessions: SessionFactory) -> list[_Who]:
    """An officer of one force and a scheme-wide admin, as real rows; Staff built from them
    as the session lookup builds it."""
    password_hash = hash_password(PASSWORD)
    now = datetime.now(UTC)
    people = {"bench.officer": (Role.OFFICER, FORCE), "bench.admin": (Role.ADMIN, None)}
    with sessions.begin() as s:
        for username, (role, force_id) in people.items():
            s.add(
                StaffUser(
                    username=username,
                    display_name=username.title(),
                    force_id=force_id,
                    role=role,
                    password_hash=password_hash,
                    disabled=False,
                    failed_logins=0,
                    created_at=now,
                )
            )
    with sessions() as s:
        users = s.scalars(select(StaffUser).where(StaffUser.username.in_(people))).all()
        staff = {
            user.username: Staff(
                id=user.id,
                username=user.username,
                display_name=user.display_name,
                role=Role(user.role),
                force_id=user.force_id,
                session_id=0,
                csrf_token="",
            )
            for user in users
        }
    return [
        _Who(f"officer of one force ({FORCE})", staff["bench.officer"]),
        _Who("scheme admin (all forces)", staff["bench.admin"]),
    ]


def _filters(today: date) -> participants.Filters:
    return participants.Filters(
        status="in_progress", programme=PROGRAMME, due_from=today, due_to=today + DUE_WITHIN
    )


def _cookie(response: httpx2.Response, name: str) -> str:
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar:
            return jar[name].value
    raise RuntimeError(f"{response.request.url} set no {name} cookie ({response.status_code})")


class _Browser:
    """A signed-in dashboard user over HTTP. The server's cookies are Secure (its production
    setting) and this is plain loopback HTTP, so the cookie header is sent by hand."""

    def __init__(self, http: httpx2.Client, url: str, settings: Settings, username: str) -> None:
        self.http = http
        self.url = url
        page = http.get(f"{url}/dashboard/login")
        token = _cookie(page, login_cookie(settings))
        answer = http.post(
            f"{url}/dashboard/login",
            data={"token": token, "username": username, "password": PASSWORD},
            headers={"Cookie": f"{login_cookie(settings)}={token}"},
        )
        if answer.status_code != 303:
            raise RuntimeError(f"sign-in as {username} answered {answer.status_code}")
        self.cookie = f"{session_cookie(settings)}={_cookie(answer, session_cookie(settings))}"

    def get(self, path: str, params: dict[str, str] | None = None) -> None:
        response = self.http.get(
            f"{self.url}{path}", params=params, headers={"Cookie": self.cookie}
        )
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")


def _raw(cluster: PostgresCluster, sql: Sequence[str], params: dict[str, Any]) -> Timing:
    with cluster.connect(DATABASE) as conn:
        conn.execute("SET work_mem = '32MB'")

        def run() -> None:
            for statement in sql:
                conn.execute(statement, params).fetchall()

        return _timed(run)


def _line(name: str, calls: Timing, page: Timing, reference: str) -> Line:
    worst = max(calls.median, page.median)
    return Line(
        name,
        f"in-process {calls}; HTTP page {page}",
        reference,
        BUDGET,
        "PASS" if worst <= BUDGET_SECONDS else "FAIL",
    )


def _lines_for(
    who: _Who,
    browser: _Browser,
    sessions: SessionFactory,
    cluster: PostgresCluster,
    today: date,
    volume: str,
) -> list[Line]:
    filters = _filters(today)
    params: dict[str, Any] = {
        "today": today,
        "soon": today + overview.DUE_SOON,
        "force": who.staff.force_id,
        "programme": PROGRAMME,
        "due_from": filters.due_from,
        "due_to": filters.due_to,
    }

    def figures() -> None:
        with sessions() as s:
            overview.overview(s, staff=who.staff, today=today)

    def listing() -> int:
        with sessions() as s:
            return participants.search(s, staff=who.staff, filters=filters, today=today).total

    def overview_page() -> None:
        browser.get("/dashboard/")

    def list_page() -> None:
        browser.get("/dashboard/participants", filters.as_params())

    matches = listing()
    if not matches:
        raise RuntimeError("the filtered participant list matched nothing")
    raw_overview = _raw(cluster, [_scoped(_OVERVIEW_SQL, who.staff)], params)
    raw_medians = _raw(cluster, [_scoped(_MEDIANS_SQL, who.staff)], params)
    raw_list = _raw(
        cluster, [_scoped(_LIST_COUNT_SQL, who.staff), _scoped(_LIST_PAGE_SQL, who.staff)], params
    )
    return [
        _line(
            f"dashboard overview, {who.label}, {volume}",
            _timed(figures),
            _timed(overview_page),
            f"raw psycopg: its GROUP BY {raw_overview}, its median-days SQL {raw_medians}",
        ),
        _line(
            f"participant list, {who.label}: in progress, one programme, "
            f"due within 14 days ({matches:,} matches, page 1)",
            _timed(listing),
            _timed(list_page),
            f"raw psycopg of its count + page SQL {raw_list}",
        ),
    ]


def _measure(cluster: PostgresCluster, settings: Settings, today: date, volume: str) -> list[Line]:
    engine = make_engine(settings.database_url)
    try:
        sessions = session_factory(engine)
        everyone = _add_staff(sessions)
        lines: list[Line] = []
        with ServerProcess(settings) as server, httpx2.Client(timeout=60.0) as http:
            for who in everyone:
                browser = _Browser(http, server.url, settings, who.staff.username)
                lines += _lines_for(who, browser, sessions, cluster, today, volume)
        return lines
    finally:
        engine.dispose()


def dashboard_budgets(workdir: Path) -> list[Line]:
    try:
        cluster = PostgresCluster()
    except PostgresNotFoundError as exc:
        return [Line("dashboard pages on PostgreSQL", "not measured", str(exc), BUDGET, "FAIL")]
    with cluster:
        settings = Settings(
            database_url=cluster.create_database(DATABASE), data_dir=workdir / "data"
        )
        engine = make_engine(settings.database_url)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        today = datetime.now(ZoneInfo(settings.dashboard_timezone)).date()
        start = time.perf_counter()
        counts = dashboard_data.generate(
            lambda: cluster.connect(DATABASE),
            enrolments=ENROLMENTS,
            today=today,
            workers=LOAD_WORKERS,
        )
        seconds = time.perf_counter() - start
        generated = Line(
            "dashboard data on PostgreSQL (set-based SQL, then VACUUM ANALYZE)",
            f"{counts.enrolments:,} enrolments, {counts.events:,} events in {seconds:.0f} s",
            f"{counts.participants:,} participants, {counts.devices} devices, "
            f"{counts.sites} sites, {counts.forces} forces",
            "(set-up; shown for the issue)",
            "INFO",
        )
        volume = f"{counts.enrolments // 1000}k enrolments"
        return [generated, *_measure(cluster, settings, today, volume)]
