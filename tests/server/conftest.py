"""Server fixtures: every test that touches the database runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from sync_server.app import create_app
from sync_server.db import SessionFactory, make_engine, session_factory
from sync_server.settings import Settings
from tests.support import databases as dbs
from tests.support.live_server import LiveServer, ServerProcess
from tests.support.postgres import PostgresCluster, PostgresNotFoundError, find_bin_dir


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One throwaway cluster for the run, started only when a PostgreSQL test needs it."""
    try:
        bin_dir = find_bin_dir()
    except PostgresNotFoundError as exc:
        pytest.fail(str(exc), pytrace=False)
    with PostgresCluster(bin_dir=bin_dir) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def postgres_template(postgres_cluster: PostgresCluster) -> str:
    return dbs.postgres_template(postgres_cluster)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dbs.sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(params=dbs.BACKENDS)
def database_backend(request: pytest.FixtureRequest) -> dbs.Backend:
    backend: dbs.Backend = request.param
    return backend


@pytest.fixture
def databases(
    request: pytest.FixtureRequest, database_backend: dbs.Backend, tmp_path: Path
) -> Iterator[dbs.Databases]:
    """Makes fresh databases of this test's backend; the cluster starts only when asked for."""
    made: dbs.Databases
    if database_backend == "sqlite":
        made = dbs.SqliteDatabases(
            template=request.getfixturevalue("sqlite_template"), root=tmp_path / "databases"
        )
    else:
        made = dbs.PostgresDatabases(
            cluster=request.getfixturevalue("postgres_cluster"),
            template=request.getfixturevalue("postgres_template"),
        )
    yield made
    made.close()


@pytest.fixture
def database_url(databases: dbs.Databases) -> str:
    """A fresh database at the head migration, on SQLite and then on PostgreSQL."""
    return databases.migrated()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path / "data")


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> SessionFactory:
    return session_factory(engine)


@pytest.fixture
def app(settings: Settings, engine: Engine) -> FastAPI:
    return create_app(settings, engine=engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """The in-process client; runs the app's lifespan."""
    with TestClient(app) as client:
        yield client


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    """The same app served by uvicorn on 127.0.0.1, for clients that speak real HTTP."""
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def server_process(settings: Settings) -> Iterator[ServerProcess]:
    """The server as its own OS process on this test's database, for crash tests."""
    with ServerProcess(settings) as server:
        yield server
