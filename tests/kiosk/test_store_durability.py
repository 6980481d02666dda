"""Units committed without an fsync (the player's step changes) commit, and leave FULL behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from kiosk_app.store import keys
from kiosk_app.store.db import Store, open_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    data = tmp_path / "kiosk"
    with open_store(data, key_store=keys.FileKeyStore(data / keys.KEY_FILE_NAME)) as store:
        yield store


def _synchronous(store: Store) -> int:
    with store.unit() as s:
        return int(s.scalar(text("PRAGMA synchronous")) or -1)


@pytest.mark.parametrize(("durable", "during"), [(True, 2), (False, 1)])  # FULL=2, NORMAL=1
def test_a_unit_commits_with_its_sync_level_and_the_connection_goes_back_full(
    store: Store, *, durable: bool, during: int
) -> None:
    with store.unit(durable=durable) as s:
        assert s.scalar(text("PRAGMA synchronous")) == during
        s.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
        s.execute(text("INSERT INTO t VALUES (1)"))
    assert _synchronous(store) == 2
    with store.unit() as s:
        assert s.scalar(text("SELECT count(*) FROM t")) == 1
    store.sync()


def test_a_failed_quick_unit_rolls_back_and_goes_back_full(store: Store) -> None:
    with store.unit() as s:
        s.execute(text("CREATE TABLE t (x INTEGER)"))

    def insert_then_fail() -> None:
        with store.unit(durable=False) as s:
            s.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        insert_then_fail()
    assert _synchronous(store) == 2
    with store.unit() as s:
        assert s.scalar(text("SELECT count(*) FROM t")) == 0
