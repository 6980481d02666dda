"""The kiosk syncs by itself: the timer, sign-out, the network back, the console's Sync now;
one sync at a time, off the GUI thread, with the backoff kept in the store. Against the real
server on loopback (through the fault proxy where a test needs a sync held or refused)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtNetwork import QNetworkInformation
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk_app.core.officer import Credentials, OfficerService
from kiosk_app.store import repos
from kiosk_app.sync.engine import Outcome, SyncResult
from kiosk_app.sync.schedule import Backoff, SyncScheduler
from kiosk_app.ui.sync_driver import CLOSING, NetworkWatch, SyncDriver
from sync_server import models
from tests.support.kiosk import FAST_HASHER, OFFICER_PASSWORD
from tests.support.live_server import LiveServer
from tests.support.world import PROGRAMME_ID, World
from tests.sync.faults import Fault, FaultProxy
from tests.sync.kiosks import Kiosk, open_kiosk
from tests.sync.window_kiosks import OFFSCREEN_NOISE, OpenWindow

pytestmark = OFFSCREEN_NOISE

BACKOFF = Backoff(base_seconds=30, cap_seconds=600)  # the first wait is exactly 30 s
HOURLY = SyncScheduler(interval_seconds=3600, jitter=0)
OWN_PIN = "583920"

MakeDriver = Callable[..., SyncDriver]


@pytest.fixture
def proxy(server: LiveServer) -> Iterator[FaultProxy]:
    """The server behind a proxy whose `plan` a test changes to hold or refuse a sync."""
    with FaultProxy(server.port) as running:
        yield running


@pytest.fixture
def kiosk(proxy: FaultProxy, world: World, make_kiosk: Callable[..., Kiosk]) -> Kiosk:
    """Enrolled through the proxy, first sync done; its clock stands still unless moved."""
    made = make_kiosk(backoff=BACKOFF)
    assert made.enrol(proxy.url, world.code()).first_sync.ok
    return made


@pytest.fixture
def drivers(qtbot: QtBot) -> Iterator[MakeDriver]:
    """Sync drivers over test kiosks; each stopped at the end, leaving nothing running."""
    made: list[SyncDriver] = []

    def make(
        kiosk: Kiosk,
        *,
        scheduler: SyncScheduler | None = HOURLY,
        network: NetworkWatch | None = None,
    ) -> SyncDriver:
        driver = SyncDriver(engine=kiosk.engine, scheduler=scheduler, network=network)
        made.append(driver)
        return driver

    yield make
    for driver in made:
        driver.stop()
        assert not driver.running
        assert driver.next_due_ms() is None


def results_of(driver: SyncDriver) -> list[SyncResult]:
    seen: list[SyncResult] = []
    driver.finished.connect(seen.append)
    return seen


def starts_of(driver: SyncDriver) -> list[bool]:
    seen: list[bool] = []
    driver.started.connect(lambda: seen.append(True))
    return seen


def register(kiosk: Kiosk) -> Credentials:
    return kiosk.officer.register(
        first_name="Jo",
        force_reference="NC/2026/0101",
        programme_id=PROGRAMME_ID,
        disposal_type="community_resolution",
        due_date=date(2026, 4, 1),
    )


@contextmanager
def first_sync_held(qtbot: QtBot, proxy: FaultProxy, driver: SyncDriver) -> Iterator[None]:
    """Asks `driver` for a sync and holds it on the wire (the proxy holds its next
    connection) until the block ends; later connections go through."""
    release = threading.Event()
    first = proxy.connections
    proxy.plan = lambda n: Fault(hold=release) if n == first else Fault()
    try:
        driver.request()
        # request() came back at once and the event loop runs (waitUntil) while the sync
        # waits on the network: the GUI thread is never the one waiting.
        qtbot.waitUntil(proxy.holding.is_set, timeout=10_000)
        yield
    finally:
        release.set()


def wait_on_another_thread(driver: SyncDriver) -> tuple[threading.Thread, list[SyncResult]]:
    """A caller that waits for a sync on a thread of its own; its answer lands in the list."""
    answers: list[SyncResult] = []
    waiter = threading.Thread(target=lambda: answers.append(driver.run_and_wait()))
    waiter.start()
    return waiter, answers


def state_of(kiosk: Kiosk) -> tuple[int, datetime | None]:
    with kiosk.store.unit() as s:
        state = repos.sync_state(s)
        return state.failures, state.next_attempt_at


# -- the timer ----------------------------------------------------------------------------------


def test_the_timer_runs_a_sync_once_the_interval_is_up(
    qtbot: QtBot, kiosk: Kiosk, drivers: MakeDriver
) -> None:
    register(kiosk)
    assert kiosk.unacked() > 0
    driver = drivers(kiosk, scheduler=SyncScheduler(interval_seconds=2, jitter=0))
    starts = starts_of(driver)
    driver.start()
    # Synced at enrolment, so the next one is a whole interval away: the timer waits.
    qtbot.waitUntil(lambda: driver.next_due_ms() is not None)
    assert 1000 < (driver.next_due_ms() or 0) <= 2000
    assert starts == []
    with qtbot.waitSignal(driver.finished, timeout=10_000) as ended:
        pass
    assert ended.args[0].outcome is Outcome.SYNCED
    assert starts == [True]
    assert kiosk.unacked() == 0
    assert driver.next_due_ms() is not None, "the timer is armed for the next interval"


@pytest.mark.parametrize(
    ("scheduler", "low_ms", "high_ms"),
    [
        (SyncScheduler(interval_seconds=100, jitter=0.2), 80_000, 120_000),
        # No scheduler of its own: the interval is the server's setting (300 s), jittered.
        (None, 240_000, 360_000),
    ],
    ids=["own-interval", "server-setting"],
)
def test_the_timer_is_armed_for_the_interval_with_jitter_after_the_last_sync(
    qtbot: QtBot,
    kiosk: Kiosk,
    drivers: MakeDriver,
    scheduler: SyncScheduler | None,
    low_ms: int,
    high_ms: int,
) -> None:
    driver = drivers(kiosk, scheduler=scheduler)
    driver.start()
    qtbot.waitUntil(lambda: driver.next_due_ms() is not None)
    assert low_ms <= (driver.next_due_ms() or 0) <= high_ms


def test_a_kiosk_that_never_synced_syncs_as_soon_as_it_starts(
    qtbot: QtBot, kiosk: Kiosk, drivers: MakeDriver
) -> None:
    with kiosk.store.unit() as s:
        repos.sync_state(s).last_attempt_at = None
    driver = drivers(kiosk)
    with qtbot.waitSignal(driver.finished, timeout=10_000) as ended:
        driver.start()
    assert ended.args[0].ok


# -- one at a time ------------------------------------------------------------------------------


def test_asking_again_while_a_sync_runs_adds_one_run_however_often_asked(
    qtbot: QtBot, kiosk: Kiosk, proxy: FaultProxy, drivers: MakeDriver
) -> None:
    driver = drivers(kiosk)
    starts, results = starts_of(driver), results_of(driver)
    with first_sync_held(qtbot, proxy, driver):
        assert driver.running
        driver.request()
        driver.request(force=True)
        driver.request()
        assert starts == [True]
    qtbot.waitUntil(lambda: len(results) == 2, timeout=20_000)
    with qtbot.assertNotEmitted(driver.started, wait=300):
        pass
    assert starts == [True, True]
    assert [r.outcome for r in results] == [Outcome.SYNCED, Outcome.SYNCED]
    assert not driver.running


def test_run_and_wait_refuses_the_gui_thread(kiosk: Kiosk, drivers: MakeDriver) -> None:
    with pytest.raises(RuntimeError, match="GUI thread"):
        drivers(kiosk).run_and_wait()


def test_a_caller_waiting_on_another_thread_gets_a_run_that_began_after_it_asked(
    qtbot: QtBot, kiosk: Kiosk, proxy: FaultProxy, drivers: MakeDriver
) -> None:
    driver = drivers(kiosk)
    starts = starts_of(driver)
    with first_sync_held(qtbot, proxy, driver):
        register(kiosk)  # made while the first run is on the wire: only a later run sends it
        waiter, answers = wait_on_another_thread(driver)
    qtbot.waitUntil(lambda: bool(answers), timeout=20_000)
    waiter.join(10)
    assert answers[0].outcome is Outcome.SYNCED
    assert answers[0].pushed.accepted > 0
    assert starts == [True, True]


def test_stopping_releases_a_waiting_caller_and_waits_for_the_run_in_flight(
    qtbot: QtBot, kiosk: Kiosk, proxy: FaultProxy, drivers: MakeDriver
) -> None:
    driver = drivers(kiosk)
    starts = starts_of(driver)
    with first_sync_held(qtbot, proxy, driver):
        waiter, answers = wait_on_another_thread(driver)
        qtbot.waitUntil(lambda: waiter.is_alive())
    driver.stop()
    waiter.join(10)
    assert not waiter.is_alive()
    assert answers == [CLOSING]
    assert not kiosk.engine.running, "stop() returned before the run in flight had ended"
    with qtbot.assertNotEmitted(driver.started, wait=200):
        driver.request()
    assert starts == [True]


# -- failures and the backoff -------------------------------------------------------------------


def test_a_failing_server_backs_off_and_the_backoff_is_kept_in_the_store(
    qtbot: QtBot, kiosk: Kiosk, proxy: FaultProxy, drivers: MakeDriver
) -> None:
    proxy.plan = lambda n: Fault(respond_status=503)
    driver = drivers(kiosk)
    driver.start()
    with qtbot.waitSignal(driver.finished, timeout=10_000) as ended:
        driver.request()
    assert ended.args[0].outcome is Outcome.FAILED
    failures, backing_off_until = state_of(kiosk)
    assert failures == 1
    assert backing_off_until == kiosk.clock.now() + timedelta(seconds=30)
    # The timer waits out the backoff, not the hourly interval.
    assert 29_000 <= (driver.next_due_ms() or 0) <= 30_000

    # Asked again meanwhile (a sign-out), it honours the backoff: the server is not called.
    connections = proxy.connections
    with qtbot.waitSignal(driver.finished, timeout=10_000) as waited:
        driver.request()
    assert waited.args[0].outcome is Outcome.WAITING
    assert proxy.connections == connections
    assert 29_000 <= (driver.next_due_ms() or 0) <= 30_000


def test_a_restarted_kiosk_waits_out_the_backoff_it_had(
    qtbot: QtBot, kiosk: Kiosk, proxy: FaultProxy, drivers: MakeDriver, tmp_path: Path
) -> None:
    proxy.plan = lambda n: Fault(respond_status=503)
    driver = drivers(kiosk)
    with qtbot.waitSignal(driver.finished, timeout=10_000):
        driver.request()
    driver.stop()
    kiosk.close()

    kiosk.clock.advance(10)
    again = open_kiosk(kiosk.data_dir, clock=kiosk.clock, backoff=BACKOFF)
    try:
        restarted = drivers(again)
        connections = proxy.connections
        restarted.start()
        qtbot.waitUntil(lambda: restarted.next_due_ms() is not None)
        assert 19_000 <= (restarted.next_due_ms() or 0) <= 20_000
        assert proxy.connections == connections
        restarted.stop()
    finally:
        again.close()


def test_the_network_coming_back_syncs_at_once_despite_the_backoff(
    qtbot: QtBot, kiosk: Kiosk, proxy: FaultProxy, drivers: MakeDriver
) -> None:
    watch = NetworkWatch()
    driver = drivers(kiosk, network=watch)
    proxy.plan = lambda n: Fault(reset_request_after=0)  # the network is down
    with qtbot.waitSignal(driver.finished, timeout=10_000) as ended:
        driver.request()
    assert ended.args[0].outcome is Outcome.FAILED
    reachability = QNetworkInformation.Reachability
    with qtbot.assertNotEmitted(driver.started, wait=50):
        watch.reachability_changed(reachability.Disconnected)
    proxy.plan = lambda n: Fault()
    register(kiosk)
    with qtbot.waitSignal(driver.finished, timeout=10_000) as back:
        watch.reachability_changed(reachability.Online)
    assert back.args[0].outcome is Outcome.SYNCED
    assert kiosk.unacked() == 0
    assert state_of(kiosk) == (0, None)
    # Still up: no second sync for the same network.
    with qtbot.assertNotEmitted(driver.started, wait=50):
        watch.reachability_changed(reachability.Online)


def test_the_network_watch_uses_a_reachability_backend_where_qt_has_one() -> None:
    watch = NetworkWatch()
    try:
        assert watch.start() == bool(QNetworkInformation.availableBackends())
    finally:
        watch.stop()


# -- in the running kiosk -----------------------------------------------------------------------


def test_a_participant_signing_out_starts_a_sync(
    server: LiveServer, world: World, open_window: OpenWindow
) -> None:
    kiosk = open_window("kiosk", enrol_at=(server.url, world.code()))
    services = kiosk.services
    officer = OfficerService(store=services.store, clock=kiosk.clock, hasher=FAST_HASHER)
    slip = officer.register(
        first_name="Sam",
        force_reference="NC/2026/0102",
        programme_id=PROGRAMME_ID,
        disposal_type="community_resolution",
        due_date=date(2026, 4, 1),
    )
    person = kiosk.participant()
    person.sign_in(slip.access_code, slip.temporary_pin)
    person.wait_for_screen("privacy")
    person.tap("I understand")
    person.wait_for_screen("choose-pin")
    person.choose_pin(OWN_PIN)
    person.wait_for_screen("home")
    assert kiosk.synced == []
    person.tap("take a break")
    person.wait_for_screen("welcome")
    assert kiosk.wait_for_sync().ok
    with world.sessions() as s:
        stored = set(
            s.scalars(
                select(models.Event.type).where(models.Event.participant_id == slip.participant_id)
            )
        )
    assert {"participant.registered", "pin.changed", "session.started", "session.ended"} <= stored


def test_sync_now_in_the_officer_console_runs_through_the_driver(
    qtbot: QtBot, server: LiveServer, world: World, open_window: OpenWindow
) -> None:
    world.add_staff("olive", password=OFFICER_PASSWORD)
    kiosk = open_window("kiosk", enrol_at=(server.url, world.code()))
    starts = starts_of(kiosk.driver)
    officer = kiosk.officer()
    officer.open_console()
    before = len(kiosk.synced)  # opening the console signed nobody out: no sync yet
    officer.tap("Sync now")
    officer.settle(timeout=30_000)
    assert officer.console.screens.console.message() == "Sync finished."
    # The console heard from the driver's worker; the driver reports on the GUI thread.
    qtbot.waitUntil(lambda: len(kiosk.synced) == before + 1)
    assert starts == [True]
    assert kiosk.synced[-1].ok
