"""The encrypted kiosk database: SQLCipher connections, migrations at start, units of work."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

import sqlcipher3  # type: ignore[import-untyped]  # ships no type hints
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from kiosk_app.store.errors import StoreError as StoreError  # re-exported
from kiosk_app.store.errors import StoreKeyError
from kiosk_app.store.keys import KeyStore, ensure_data_dir, load_or_create_key

log = logging.getLogger(__name__)

DB_FILE_NAME = "kiosk.db"
BUSY_TIMEOUT_MS = 10_000


def _connect(path: Path, key: bytes) -> Any:
    conn = sqlcipher3.connect(str(path), check_same_thread=False, isolation_level=None)
    try:
        # The key must be the first statement: SQLCipher applies it to the first page read,
        # and a PRAGMA issued earlier could touch the file unencrypted.
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute("PRAGMA cipher_memory_security = ON")
        # A wrong key is reported as StoreKeyError; SQLCipher need not also print to stderr.
        conn.execute("PRAGMA cipher_log_level = NONE")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.dbapi2.DatabaseError as exc:
            raise StoreKeyError(
                f"{path} cannot be opened with this device's key (wrong key or not a kiosk"
                " database)"
            ) from exc
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a participant's acknowledged answer must survive a power cut, WAL or not.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except BaseException:
        conn.close()
        raise
    return conn


def make_engine(path: Path, key: bytes) -> Engine:
    """An engine whose every connection is keyed, then configured, before SQLAlchemy sees it."""
    engine = create_engine(
        "sqlite+pysqlite://",
        creator=lambda: _connect(path, key),
        module=sqlcipher3.dbapi2,
        # Not the SingletonThreadPool SQLAlchemy picks for a URL without a file: that keeps a
        # connection per thread and, past five threads (GUI, sign-in, console, sync, media),
        # closes one another thread is still using. A queue hands each unit a whole
        # connection and takes it back at the end. Last in, first out: the GUI thread's units
        # get the connection it used last, whose page cache another connection's writes have
        # not made stale (pages read again from the WAL are decrypted again).
        poolclass=QueuePool,
        pool_size=5,
        max_overflow=10,
        pool_use_lifo=True,
    )

    # With the driver's own transaction handling off, SQLAlchemy's BEGIN is the only one,
    # and IMMEDIATE takes the write lock up front: a unit reading the next journal seq can
    # never be overtaken by another writer between its read and its write.
    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("kiosk_app.store") / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; every schema change goes through here."""
    command.upgrade(alembic_config(engine), revision)


def _driver(conn: Connection) -> Any:
    """The sqlcipher3 connection under `conn` (reaching it starts no transaction)."""
    raw = conn.connection.driver_connection
    assert raw is not None
    return raw


class Store:
    """The open kiosk database: owns the engine and the session factory."""

    def __init__(self, *, data_dir: Path, engine: Engine) -> None:
        self.data_dir = data_dir
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def path(self) -> Path:
        return self.data_dir / DB_FILE_NAME

    @contextmanager
    def unit(self, *, durable: bool = True) -> Iterator[Session]:
        """One unit of work: begins, commits on success, rolls everything back on error.

        `durable=False` commits with synchronous=NORMAL: in WAL mode that survives a crash
        or SIGKILL of the process (the commit is in the OS's hands) but not a power cut
        until the next durable commit or checkpoint, which syncs the WAL and so everything
        committed before it, in order. Only for bookkeeping nobody was told is saved (the
        player's step changes); anything acknowledged to the participant stays durable.
        """
        if durable:
            with self.sessions.begin() as session:
                yield session
            return
        with self.engine.connect() as conn:
            raw = _driver(conn)
            raw.execute("PRAGMA synchronous = NORMAL")  # before BEGIN: no transaction yet
            try:
                with self.sessions(bind=conn) as session, session.begin():
                    yield session
            finally:
                try:
                    raw.execute("PRAGMA synchronous = FULL")
                except BaseException:
                    conn.invalidate()  # never hand a NORMAL connection back to the pool
                    raise

    def sync(self) -> None:
        """Make every unit committed so far durable, those with `durable=False` included."""
        with self.engine.connect() as conn:
            _driver(conn).execute("PRAGMA wal_checkpoint(FULL)").fetchall()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(data_dir: Path, *, key_store: KeyStore | None = None) -> Store:
    """Open (creating if need be) `data_dir/kiosk.db` and migrate it to the newest schema."""
    ensure_data_dir(data_dir)
    key = load_or_create_key(data_dir, key_store=key_store)
    engine = make_engine(data_dir / DB_FILE_NAME, key)
    try:
        with engine.connect():
            pass  # proves the key before Alembic touches anything
        upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    log.info("kiosk store open")
    return Store(data_dir=data_dir, engine=engine)
