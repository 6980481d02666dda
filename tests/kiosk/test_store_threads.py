"""The store is shared by many threads (GUI, sign-in, officer console, sync driver, media):
each unit of work gets a connection of its own, and no thread's is closed under it."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import func, select

from kiosk_app.core.clock import ManualClock
from kiosk_app.store import journal, repos
from kiosk_app.store.models import JournalEvent
from tests.support.kiosk import open_test_store

THREADS = 8  # more than SQLAlchemy's SingletonThreadPool keeps (5) before closing some
UNITS = 25


def test_units_on_more_threads_than_a_pool_size_all_succeed(tmp_path: Path) -> None:
    store = open_test_store(tmp_path / "kiosk")
    clock = ManualClock()
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(number: int) -> None:
        start.wait()
        try:
            for _ in range(UNITS):
                with store.unit() as s:
                    repos.sync_state(s)
                    journal.record(
                        s,
                        event_type="step.viewed",
                        participant_id=f"participant-{number}",
                        step_id="welcome",
                        data={"dwell_ms": 1},
                        clock=clock,
                    )
        except BaseException as exc:
            errors.append(exc)

    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        with store.unit() as s:
            assert s.scalar(select(func.count()).select_from(JournalEvent)) == THREADS * UNITS
    finally:
        store.close()
