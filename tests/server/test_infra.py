"""The server test infrastructure itself: databases, in-process client, live servers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import Engine, NullPool

from sync_server.app import create_app
from sync_server.db import alembic_config, current_revision, make_engine
from sync_server.models import Base
from sync_server.settings import Settings
from tests.support.databases import Databases
from tests.support.live_server import LiveServer, ServerProcess

HEALTHY = {"status": "ok", "database": "ok"}


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def test_health_through_the_test_client(client: TestClient) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == HEALTHY


def test_health_through_the_live_server(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.url}/health", timeout=5)

    assert response.status_code == 200
    assert response.json() == HEALTHY


def test_health_is_503_when_the_database_is_gone(
    databases: Databases, database_url: str, tmp_path: Path
) -> None:
    # No pool: each request opens a connection, as the first request after a restart would.
    engine = make_engine(database_url, poolclass=NullPool)
    app = create_app(Settings(database_url=database_url, data_dir=tmp_path), engine=engine)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200

        databases.remove(database_url)
        response = client.get("/health")

    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_migrations_build_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)

    assert differences == []
    assert current_revision(engine) == head_revision(engine)


def test_sqlite_commits_reach_the_disk_before_the_server_answers(tmp_path: Path) -> None:
    # WAL, and synchronous=FULL: an acknowledged push survives a power cut, not only a crash.
    engine = make_engine(f"sqlite:///{tmp_path / 'server.sqlite3'}", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            pragmas = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys")
            }
    finally:
        engine.dispose()
    assert pragmas == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1}


def test_empty_database_has_no_schema(databases: Databases) -> None:
    engine = make_engine(databases.empty(), poolclass=NullPool)

    assert current_revision(engine) is None


def test_server_process_survives_sigkill_and_restarts(
    server_process: ServerProcess, engine: Engine
) -> None:
    first_pid = server_process.pid

    server_process.kill()
    server_process.start()

    assert server_process.pid != first_pid
    response = httpx.get(f"{server_process.url}/health", timeout=5)
    assert response.status_code == 200
    assert response.json() == HEALTHY
    assert current_revision(engine) == head_revision(engine)


_FREEZE_PROBE = """
import gc, os, sys
from sync_server.cli import DATA_DIR_ENV, DB_ENV, app_from_environment

os.environ[DB_ENV], os.environ[DATA_DIR_ENV] = "sqlite://", sys.argv[1]
assert gc.get_freeze_count() == 0
app_from_environment()  # what uvicorn calls in each worker of `sync-server serve`
print(gc.get_freeze_count())
"""


def test_a_server_process_freezes_what_it_built_at_start(tmp_path: Path) -> None:
    # In a process of its own: frozen objects are never collected, so not in the test run's.
    probe = subprocess.run(
        [sys.executable, "-c", _FREEZE_PROBE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    # The modules, models and validators of the app: some 140,000 objects.
    assert int(probe.stdout) > 50_000
