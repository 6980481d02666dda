"""Dashboard fixtures: the server suite's databases (SQLite and PostgreSQL), staff of every
role in two forces, and participants whose records were pushed by real enrolled kiosks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from sync_server.app import create_app
from sync_server.db import SessionFactory
from sync_server.settings import Settings
from tests.dashboard.scheme import Scheme, add_staff, seed_scheme
from tests.server.conftest import database_backend as database_backend
from tests.server.conftest import database_url as database_url
from tests.server.conftest import databases as databases
from tests.server.conftest import engine as engine
from tests.server.conftest import postgres_cluster as postgres_cluster
from tests.server.conftest import postgres_template as postgres_template
from tests.server.conftest import sessions as sessions
from tests.server.conftest import sqlite_template as sqlite_template
from tests.support.world import World, make_world

BASE_URL = "https://testserver"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Production defaults: Secure cookies, so the test client speaks https."""
    return Settings(database_url=database_url, data_dir=tmp_path / "data")


@pytest.fixture
def app(settings: Settings, engine: Engine) -> FastAPI:
    return create_app(settings, engine=engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as client:
        yield client


@pytest.fixture
def world(settings: Settings, sessions: SessionFactory, tmp_path: Path) -> World:
    world = make_world(settings, sessions, tmp_path)
    add_staff(sessions)
    return world


@pytest.fixture
def scheme(client: TestClient, world: World) -> Scheme:
    """Participants in both forces, their work pushed through the device protocol."""
    return seed_scheme(client, BASE_URL, world)
