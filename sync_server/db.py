"""Engines, sessions and migrations for SQLite (default) and PostgreSQL (production)."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SessionFactory = sessionmaker[Session]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the dashboard read while devices write; busy_timeout queues writers
    # instead of failing them; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit is on disk before the server answers. A kiosk that is told its events
    # are stored stops sending them, so with WAL's NORMAL (durable across a crash of the
    # process, not a power cut) the last acknowledged pushes could be lost with the power.
    cursor.execute("PRAGMA synchronous=FULL")
    # 64 MiB of page cache instead of 2: the events table's indexes stay in memory as it grows.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the project's settings for its dialect."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def session_factory(engine: Engine) -> SessionFactory:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("sync_server") / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; every schema change goes through here."""
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def sqlite_timestamp(value: datetime) -> str:
    """A UTC timestamp as SQLAlchemy's SQLite DateTime stores it (tests hold the two equal)."""
    if value.tzinfo is not UTC:  # validated times are in UTC already
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:-6]  # without the "+00:00"


def sqlite_timestamp_of_utc(text: str) -> str:
    """`sqlite_timestamp` of a time already written as YYYY-MM-DDTHH:MM:SS.ffffffZ (as an
    event's time is for its content hash): the same digits, a space for the T, no Z."""
    return f"{text[:10]} {text[11:26]}"
