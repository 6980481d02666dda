"""Sync fixtures: the real server under uvicorn on loopback (SQLite), and kiosks to enrol."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from kiosk_app.core.clock import ManualClock
from sync_server.app import create_app
from sync_server.db import SessionFactory, make_engine, session_factory
from sync_server.settings import Settings
from tests.support import databases as dbs
from tests.support.live_server import LiveServer
from tests.support.world import World, make_world
from tests.sync.kiosks import Kiosk, open_kiosk
from tests.sync.window_kiosks import open_window  # noqa: F401  # a fixture


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dbs.sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture
def settings(sqlite_template: Path, tmp_path: Path) -> Iterator[Settings]:
    databases = dbs.SqliteDatabases(template=sqlite_template, root=tmp_path / "databases")
    yield Settings(database_url=databases.migrated(), data_dir=tmp_path / "server")
    databases.close()


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> SessionFactory:
    return session_factory(engine)


@pytest.fixture
def world(settings: Settings, sessions: SessionFactory, tmp_path: Path) -> World:
    return make_world(settings, sessions, tmp_path)


@pytest.fixture
def app(settings: Settings, engine: Engine, world: World) -> FastAPI:
    return create_app(settings, engine=engine)


@pytest.fixture
def server(app: FastAPI) -> Iterator[LiveServer]:
    with LiveServer(app) as live:
        yield live


@pytest.fixture
def make_kiosk(tmp_path: Path) -> Iterator[Callable[..., Kiosk]]:
    """Kiosks with their own data folders and clocks; all closed at the end."""
    made: list[Kiosk] = []

    def make(name: str = "kiosk", **options: object) -> Kiosk:
        kiosk = open_kiosk(tmp_path / name, **options)  # type: ignore[arg-type]
        made.append(kiosk)
        return kiosk

    yield make
    for kiosk in made:
        kiosk.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()
