"""The server dies mid-sync and mid-download (SIGKILL) and comes back: both complete, the
download resuming where it stopped rather than starting over."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import date

import pytest
import tenacity
from sqlalchemy import select

from kiosk_app.store import repos
from kiosk_app.store.models import JournalEvent
from kiosk_app.sync.engine import Outcome, SyncResult
from kiosk_app.sync.packs import PACK_DIR, PARTIAL_DIR
from kiosk_app.sync.transport import RetryPolicy
from sync_server import models
from sync_server.settings import Settings
from tests.support.live_server import ServerProcess
from tests.support.world import PROGRAMME_ID, World
from tests.sync.faults import Fault, FaultProxy
from tests.sync.kiosks import Kiosk, queue_events

ONE_TRY = RetryPolicy(attempts=1, wait=tenacity.wait_none(), read_timeout=10.0)
PACK_REQUEST = b"GET /api/v1/packs/"
PUSH_REQUEST = b"POST /api/v1/sync/push"


@pytest.fixture
def server_process(settings: Settings, world: World) -> Iterator[ServerProcess]:
    with ServerProcess(settings) as process:
        yield process


def _killed_while_held(
    process: ServerProcess, proxy: FaultProxy, release: threading.Event, run: Callable[[], object]
) -> list[object]:
    """Run `run` in a thread; once the proxy holds the chosen response, SIGKILL the server,
    let the proxy go on (it finds the server gone), and wait for `run` to come back."""
    results: list[object] = []
    worker = threading.Thread(target=lambda: results.append(run()))
    worker.start()
    try:
        assert proxy.holding.wait(30), "the proxy never held the response"
        process.kill()
    finally:
        release.set()
        worker.join(60)
    return results


def _hold_first(
    proxy: FaultProxy, request: bytes, release: threading.Event, after: int
) -> Callable[[int], Fault]:
    """Every connection until one holds: hold the response to `request` after `after`
    bytes, then reset (the server died there); afterwards, no faults."""

    def plan(number: int) -> Fault:
        if proxy.holding.is_set():
            return Fault()
        return Fault(cut_request=request, hold=release, hold_after=after, reset_after_hold=True)

    return plan


def test_a_pack_download_resumes_after_the_server_restarts(
    server_process: ServerProcess, world: World, make_kiosk: Callable[..., Kiosk]
) -> None:
    kiosk = make_kiosk(retry=ONE_TRY)
    release = threading.Event()
    proxy = FaultProxy(server_process.port)
    proxy.plan = _hold_first(proxy, PACK_REQUEST, release, 40_000)
    with proxy:
        [enrolled] = _killed_while_held(
            server_process, proxy, release, lambda: kiosk.enrol(proxy.url, world.code())
        )
        first = enrolled.first_sync  # type: ignore[attr-defined]
        assert first.outcome is Outcome.FAILED
        partial = kiosk.data_dir / PACK_DIR / PARTIAL_DIR / f"{PROGRAMME_ID}-1.pack.part"
        kept = partial.stat().st_size
        assert kept > 16_000
        server_process.start()
        second = kiosk.engine.run_once(force=True)
        assert second.outcome is Outcome.SYNCED, second.error
        downloads = [r for r in proxy.requests_seen if r.startswith(PACK_REQUEST)]
    assert second.packs_installed == ((PROGRAMME_ID, 1),)
    assert re.search(rb"(?i)\r\nrange: bytes=%d-\r\n" % kept, downloads[-1])
    assert kiosk.library.programme(pack_id=PROGRAMME_ID, version=1).id == PROGRAMME_ID


def test_a_push_completes_after_the_server_dies_having_stored_the_batch(
    server_process: ServerProcess, world: World, make_kiosk: Callable[..., Kiosk]
) -> None:
    kiosk = make_kiosk(retry=ONE_TRY)
    assert kiosk.enrol(server_process.url, world.code()).first_sync.ok
    slip = kiosk.officer.register(
        first_name="Lee",
        force_reference="NC/77",
        programme_id=PROGRAMME_ID,
        disposal_type="community_resolution",
        due_date=date(2026, 4, 1),
    )
    queue_events(
        kiosk, participant_id=slip.participant_id, enrolment_id=slip.enrolment_id, count=300
    )
    release = threading.Event()
    proxy = FaultProxy(server_process.port)
    proxy.plan = _hold_first(proxy, PUSH_REQUEST, release, 0)
    with proxy:
        with kiosk.store.unit() as s:
            repos.device(s).server_url = proxy.url
        [cut] = _killed_while_held(server_process, proxy, release, kiosk.engine.run_once)
        assert isinstance(cut, SyncResult)
        assert cut.outcome is Outcome.FAILED
        assert kiosk.unacked() == 302  # the answer never came: nothing is marked
        server_process.start()
        done = kiosk.engine.run_once(force=True)
    assert done.outcome is Outcome.SYNCED, done.error
    assert done.pushed.duplicate == 302  # the server had stored them before it died
    assert kiosk.unacked() == 0
    with world.sessions() as s:
        stored = s.scalars(
            select(models.Event.id).where(models.Event.participant_id == slip.participant_id)
        ).all()
    with kiosk.store.unit() as s:
        made = set(s.scalars(select(JournalEvent.id)))
    assert sorted(stored) == sorted(made)
