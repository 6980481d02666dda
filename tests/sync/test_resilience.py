"""Retries, backoff that survives a restart, wrong clocks, and one sync at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from kiosk_app.core.clock import ManualClock
from kiosk_app.store import repos
from kiosk_app.sync.device import private_key_bytes
from kiosk_app.sync.engine import Outcome
from kiosk_app.sync.schedule import Backoff
from sync_server import models
from tests.support.live_server import LiveServer, listening_socket, wait_until
from tests.support.world import PROGRAMME_ID, World
from tests.sync.faults import Fault, FaultProxy
from tests.sync.kiosks import Kiosk, open_kiosk

BACKOFF = Backoff(base_seconds=30, cap_seconds=600)


def _use_server(kiosk: Kiosk, url: str) -> None:
    with kiosk.store.unit() as s:
        repos.device(s).server_url = url


def _register(kiosk: Kiosk) -> str:
    return kiosk.officer.register(
        first_name="Jo",
        force_reference="NC/9",
        programme_id=PROGRAMME_ID,
        disposal_type="community_resolution",
        due_date=date(2026, 4, 1),
    ).participant_id


def _dead_url() -> str:
    sock = listening_socket()
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now: connections are refused
    return f"http://127.0.0.1:{port}"


def test_backoff_after_a_network_failure_survives_a_restart(
    server: LiveServer, world: World, tmp_path: Path
) -> None:
    clock = ManualClock()
    kiosk = open_kiosk(tmp_path / "k", clock=clock, backoff=BACKOFF)
    assert kiosk.enrol(server.url, world.code()).first_sync.ok
    participant = _register(kiosk)
    _use_server(kiosk, _dead_url())
    failed = kiosk.engine.run_once()
    assert failed.outcome is Outcome.FAILED
    assert failed.next_attempt_at is not None
    delay = (failed.next_attempt_at - clock.now()).total_seconds()
    assert BACKOFF.base_seconds <= delay <= BACKOFF.base_seconds
    assert kiosk.engine.status().last_error is not None
    assert "cannot reach the server" in (kiosk.engine.status().last_error or "")
    kiosk.close()

    again = open_kiosk(tmp_path / "k", clock=clock, backoff=BACKOFF)
    try:
        waiting = again.engine.run_once()
        assert waiting.outcome is Outcome.WAITING
        assert waiting.next_attempt_at == failed.next_attempt_at
        clock.advance(delay + 1)
        second = again.engine.run_once()
        assert second.outcome is Outcome.FAILED
        assert second.next_attempt_at is not None
        longer = (second.next_attempt_at - clock.now()).total_seconds()
        assert BACKOFF.base_seconds <= longer <= 2 * BACKOFF.base_seconds
        _use_server(again, server.url)
        clock.advance(longer + 1)
        done = again.engine.run_once()
        assert done.outcome is Outcome.SYNCED, done.error
        status = again.engine.status()
        assert (status.next_attempt_at, status.last_error, status.events_waiting) == (None, None, 0)
        assert status.last_success_at == clock.now()
        with world.sessions() as s:
            assert s.get(models.Participant, participant) is not None
    finally:
        again.close()


def test_a_5xx_is_retried_at_once_and_a_refusal_is_not(
    server: LiveServer, world: World, make_kiosk: Callable[..., Kiosk]
) -> None:
    kiosk = make_kiosk()
    assert kiosk.enrol(server.url, world.code()).first_sync.ok

    def flaky(number: int) -> Fault:
        return Fault(respond_status=503) if number == 0 else Fault()

    with FaultProxy(server.port, plan=flaky) as proxy:
        _use_server(kiosk, proxy.url)
        assert kiosk.engine.run_once().outcome is Outcome.SYNCED
        assert proxy.connections >= 2
        with kiosk.store.unit() as s:  # a key the server does not know: 401, not retried
            repos.device(s).ed25519_private_key = private_key_bytes(Ed25519PrivateKey.generate())
        before = len(proxy.requests_seen)
        refused = kiosk.engine.run_once()
        assert refused.outcome is Outcome.REFUSED
        assert "signature_invalid" in (refused.error or "")
        assert refused.next_attempt_at is None
        assert len(proxy.requests_seen) == before + 1


def test_a_kiosk_whose_clock_is_days_wrong_still_syncs(
    server: LiveServer, world: World, make_kiosk: Callable[..., Kiosk]
) -> None:
    kiosk = make_kiosk(clock=ManualClock())  # March 2026, whatever the real date is
    assert kiosk.enrol(server.url, world.code()).first_sync.ok
    participant = _register(kiosk)
    with kiosk.store.unit() as s:
        repos.sync_state(s).clock_offset_seconds = 0.0  # as if the offset had been lost
    kiosk.clock.advance(3 * 86_400)
    result = kiosk.engine.run_once()
    assert result.outcome is Outcome.SYNCED, result.error
    with world.sessions() as s:
        event = s.scalars(
            select(models.Event).where(models.Event.participant_id == participant)
        ).first()
        assert event is not None
        # The device's clock is recorded as it was; the server's own time beside it.
        assert event.occurred_at == kiosk.clock.now() - timedelta(days=3)
        assert abs(event.received_at - event.occurred_at) > timedelta(days=1)


def test_one_sync_at_a_time(
    server: LiveServer, world: World, make_kiosk: Callable[..., Kiosk]
) -> None:
    kiosk = make_kiosk()
    assert kiosk.enrol(server.url, world.code()).first_sync.ok
    release = threading.Event()
    with FaultProxy(server.port, plan=lambda n: Fault(hold=release)) as proxy:
        _use_server(kiosk, proxy.url)
        results = []
        first = threading.Thread(target=lambda: results.append(kiosk.engine.run_once()))
        first.start()
        try:
            wait_until(lambda: proxy.connections > 0, timeout=10, what="the first sync")
            assert kiosk.engine.status().syncing
            assert kiosk.engine.run_once(force=True).outcome is Outcome.BUSY
        finally:
            release.set()
            first.join(30)
    assert [r.outcome for r in results] == [Outcome.SYNCED]
