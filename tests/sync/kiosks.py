"""Test kiosks for sync tests: a real store, the real core services and the sync engine."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import tenacity
from argon2 import PasswordHasher
from sqlalchemy import func, insert, select, update

from kiosk_app.core.auth import LoginService
from kiosk_app.core.clock import ManualClock
from kiosk_app.core.library import PackLibrary
from kiosk_app.core.officer import OfficerService
from kiosk_app.core.player import ProgrammePlayer
from kiosk_app.core.session import KioskSession, LogoutReason
from kiosk_app.store import journal, keys
from kiosk_app.store.db import Store, open_store
from kiosk_app.store.models import Counter, JournalEvent
from kiosk_app.sync.engine import SyncEngine
from kiosk_app.sync.enrol import Enrolled, enrol
from kiosk_app.sync.schedule import Backoff
from kiosk_app.sync.transport import RetryPolicy
from tests.support.kiosk import do_step as support_do_step

# Cheap argon2: tests hash many PINs (the hash records its parameters, so any verifier works).
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
# No waiting between tries: the faults in these tests are injected, not weather.
QUICK_RETRY = RetryPolicy(attempts=4, wait=tenacity.wait_none(), read_timeout=10.0)


@dataclass
class Kiosk:
    store: Store
    clock: ManualClock
    engine: SyncEngine
    officer: OfficerService
    library: PackLibrary
    session: KioskSession

    @property
    def data_dir(self) -> Path:
        return self.store.data_dir

    def enrol(self, server_url: str, code: str) -> Enrolled:
        return enrol(
            store=self.store,
            engine=self.engine,
            server_url=server_url,
            code=code,
            retry=QUICK_RETRY,
        )

    def unacked(self) -> int:
        with self.store.unit() as s:
            return (
                s.scalar(
                    select(func.count())
                    .select_from(JournalEvent)
                    .where(JournalEvent.acked_at.is_(None))
                )
                or 0
            )

    def local_event_ids(self) -> set[str]:
        with self.store.unit() as s:
            return set(
                s.scalars(select(JournalEvent.id).where(JournalEvent.origin_device_id.is_(None)))
            )

    def close(self) -> None:
        if self.session.signed_in is not None:
            self.session.logout(reason=LogoutReason.OFFICER)
        self.library.close()
        self.store.close()


def open_kiosk(
    data_dir: Path,
    *,
    clock: ManualClock | None = None,
    retry: RetryPolicy = QUICK_RETRY,
    backoff: Backoff | None = None,
) -> Kiosk:
    store = open_store(data_dir, key_store=keys.FileKeyStore(data_dir / keys.KEY_FILE_NAME))
    the_clock = clock or ManualClock()
    library = PackLibrary(store=store)
    login = LoginService(store=store, clock=the_clock, hasher=FAST_HASHER)
    return Kiosk(
        store=store,
        clock=the_clock,
        engine=SyncEngine(store=store, clock=the_clock, retry=retry, backoff=backoff),
        officer=OfficerService(store=store, clock=the_clock, hasher=FAST_HASHER),
        library=library,
        session=KioskSession(store=store, clock=the_clock, login=login, library=library),
    )


def do_step(player: ProgrammePlayer, clock: ManualClock) -> None:
    """What a diligent participant does on the current step, through the real player."""
    player.view_started()
    support_do_step(player, clock)
    player.view_ended()


def queue_events(kiosk: Kiosk, *, participant_id: str, enrolment_id: str, count: int) -> None:
    """`count` step.viewed events in the journal at once (journal.record takes ~2 ms each,
    too slow to make 10,000 for a test); seq continues the journal's own counter."""
    now = kiosk.clock.now()
    with kiosk.store.unit() as s:
        start = s.scalar(select(Counter.value).where(Counter.name == journal.SEQ_COUNTER)) or 0
        s.execute(
            insert(JournalEvent),
            [
                {
                    "id": str(uuid.uuid4()),
                    "seq": start + i,
                    "participant_id": participant_id,
                    "enrolment_id": enrolment_id,
                    "type": "step.viewed",
                    "step_id": "welcome",
                    "data": {"dwell_ms": i},
                    "occurred_at": now,
                    "monotonic_ms": i,
                }
                for i in range(1, count + 1)
            ],
        )
        s.execute(
            update(Counter).where(Counter.name == journal.SEQ_COUNTER).values(value=start + count)
        )
