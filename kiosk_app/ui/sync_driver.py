"""Runs the sync engine by itself while the kiosk is up: on a timer, after a participant signs
out, when the network comes back, and when an officer presses Sync now.

The engine (`kiosk_app.sync.engine`) does the work and `SyncScheduler` decides when the
next regular sync is due; this module is only the Qt side of that: a single-shot QTimer,
one worker thread, and signals. A sync never runs on the GUI thread, and never twice at
once: asking while one runs is remembered as one more run after it, however often asked.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal

from kiosk_app.sync.engine import Outcome, SyncEngine, SyncResult
from kiosk_app.sync.schedule import Backoff, SyncScheduler
from kiosk_app.sync.transport import RetryPolicy
from kiosk_app.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

# What a caller waiting for a sync hears when the kiosk closes first.
CLOSING = SyncResult(Outcome.BUSY, error="The kiosk is closing.")
# At least this long between the end of one run and a timer-started next one, whatever the
# store says (a sync run elsewhere, e.g. at enrolment, answers BUSY here without waiting).
MIN_GAP_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class SyncSetup:
    """How the running kiosk syncs; the defaults are production's (tests shorten them)."""

    retry: RetryPolicy | None = None
    backoff: Backoff | None = None
    scheduler: SyncScheduler | None = None  # None: the interval is the server's setting
    watch_network: bool = True


class NetworkWatch(QObject):
    """Says when the network comes back, from the OS through QNetworkInformation.

    `start()` loads a reachability backend (NetworkManager, GLib's network monitor or
    ConnMan on Linux; the system's own on Windows and macOS). Where none loads, it answers
    False and never signals: the kiosk then relies on its timer, whose next try follows
    the backoff, so a returning network is noticed at the next regular sync instead.
    """

    came_back = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._up: bool | None = None
        self._info: Any = None

    def start(self) -> bool:
        from PySide6.QtNetwork import QNetworkInformation

        feature = QNetworkInformation.Feature.Reachability
        if not QNetworkInformation.loadBackendByFeatures(feature):
            log.info("no network reachability backend here: syncing by the timer alone")
            return False
        info = QNetworkInformation.instance()
        self._info = info
        self._up = _is_up(info.reachability())
        info.reachabilityChanged.connect(self.reachability_changed)
        log.info("watching the network through %s", info.backendName())
        return True

    def stop(self) -> None:
        if self._info is not None:
            self._info.reachabilityChanged.disconnect(self.reachability_changed)
            self._info = None

    def reachability_changed(self, reachability: Any) -> None:
        """Fed by QNetworkInformation: `came_back` when it goes from down to up."""
        up = _is_up(reachability)
        was, self._up = self._up, up
        if up and was is not True:
            log.info("the network is back")
            self.came_back.emit()


def _is_up(reachability: Any) -> bool:
    from PySide6.QtNetwork import QNetworkInformation

    # Site: the force's own network, where a sync server may well live.
    reached = (QNetworkInformation.Reachability.Site, QNetworkInformation.Reachability.Online)
    return bool(reachability in reached)


class SyncDriver(QObject):
    """Runs `engine` off the GUI thread when due, when asked, and never two at once.

    `started` fires as a run begins and `finished(SyncResult)` when it has ended. After each
    run the timer is armed with the scheduler's delay: the interval with jitter after the
    last attempt, or after a failure the backoff time the engine kept in the store. Without
    a scheduler the interval is the server's `sync_interval_seconds` setting.
    """

    started = Signal()
    finished = Signal(object)
    _asked_elsewhere = Signal()

    def __init__(
        self,
        *,
        engine: SyncEngine,
        scheduler: SyncScheduler | None = None,
        network: NetworkWatch | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._engine = engine
        self._scheduler = scheduler or SyncScheduler()
        self._follow_settings = scheduler is None
        self._network = network
        self._runner = TaskRunner(self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._due)
        self._active = False  # between start() and stop()
        self._running = False  # a run is on the worker (GUI-thread state)
        # Shared with threads waiting in run_and_wait: requests are numbered as they come,
        # and a run covers every request made before it began.
        self._lock = threading.Condition()
        self._asked = 0
        self._force = False
        self._covered = 0  # the number of requests the run now (or last) running covers
        self._served = 0  # requests up to this number have seen a run begin and end after them
        self._served_result: SyncResult | None = None
        self._closing = False
        self._asked_elsewhere.connect(self._kick, Qt.ConnectionType.QueuedConnection)
        if network is not None:
            network.came_back.connect(self.network_back)

    # -- public API ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._running

    def next_due_ms(self) -> int | None:
        """Milliseconds until the timer starts the next regular sync; None if it is not armed."""
        return self._timer.remainingTime() if self._timer.isActive() else None

    def start(self) -> None:
        """Sync at once if one is due, else arm the timer for when it is."""
        self._active = True
        engine, scheduler, follow = self._engine, self._scheduler, self._follow_settings
        self._runner.submit(
            lambda: engine.seconds_until_due(scheduler, follow_settings=follow),
            on_done=self._planned,
            on_error=self._plan_failed,
        )

    def stop(self) -> None:
        """Stop the timer and the triggers, release anyone waiting, and wait for a run in
        flight to end (the engine keeps the store consistent at every point, but the store
        must not close under it)."""
        self._active = False
        self._timer.stop()
        if self._network is not None:
            self._network.came_back.disconnect(self.network_back)
            self._network = None
        with self._lock:
            self._closing = True
            self._lock.notify_all()
        self._runner.wait()
        self._running = False  # whatever ran has ended; its report may still be queued

    def request(self, *, force: bool = False) -> None:
        """A sync soon, on the GUI thread: now if none runs, else once the running one ends.
        `force` runs even while backing off after failures."""
        with self._lock:
            self._asked += 1
            self._force = self._force or force
        self._kick()

    def network_back(self) -> None:
        """The network returned: the backoff was most likely waiting for just that."""
        self.request(force=True)

    def run_and_wait(self, *, force: bool = True, timeout: float | None = None) -> SyncResult:
        """From a worker thread (never the GUI's): ask for a sync, then wait on this thread
        for a run that began after asking to end, and answer its result."""
        if QThread.currentThread() is self.thread():
            raise RuntimeError("run_and_wait would block the GUI thread; use request()")
        with self._lock:
            if self._closing:
                return CLOSING
            self._asked += 1
            mine = self._asked
            self._force = self._force or force
        self._asked_elsewhere.emit()
        with self._lock:
            ended = self._lock.wait_for(lambda: self._served >= mine or self._closing, timeout)
            if self._served >= mine and self._served_result is not None:
                return self._served_result
        if ended:
            return CLOSING
        return SyncResult(Outcome.BUSY, error="The sync is still running.")

    # -- internals ----------------------------------------------------------------------------

    def _due(self) -> None:
        self.request()

    def _kick(self) -> None:
        with self._lock:
            pending = self._asked > self._covered and not self._closing
        if pending and not self._running:
            self._begin()

    def _begin(self) -> None:
        self._timer.stop()
        with self._lock:
            force, self._force = self._force, False
            covers = self._covered = self._asked
        self._running = True
        self.started.emit()
        engine, scheduler, follow = self._engine, self._scheduler, self._follow_settings

        def work() -> tuple[SyncResult, float | None]:
            try:
                result = engine.run_once(force=force)
            except BaseException:
                self._publish(covers, SyncResult(Outcome.FAILED, error="The sync stopped."))
                raise
            self._publish(covers, result)
            return result, engine.seconds_until_due(scheduler, follow_settings=follow)

        self._runner.submit(work, on_done=self._ended, on_error=self._broke)

    def _publish(self, covers: int, result: SyncResult) -> None:
        # On the worker: waiters are released without the GUI thread (which may be waiting
        # for them at shutdown).
        with self._lock:
            self._served = max(self._served, covers)
            self._served_result = result
            self._lock.notify_all()

    def _ended(self, outcome: tuple[SyncResult, float | None]) -> None:
        result, delay = outcome
        self._running = False
        log.info("sync %s", result.outcome.value)
        self.finished.emit(result)
        self._next(delay)

    def _broke(self, exc: BaseException) -> None:
        log.error("a sync failed unexpectedly", exc_info=exc)
        self._running = False
        self.finished.emit(SyncResult(Outcome.FAILED, error="The sync stopped."))
        self._next(self._scheduler.interval_seconds)

    def _next(self, delay: float | None) -> None:
        """After a run: the runs asked for meanwhile (as one), else the timer."""
        with self._lock:
            pending = self._asked > self._covered and not self._closing
        if pending:
            self._begin()
        elif self._active:
            self._arm(None if delay is None else max(delay, MIN_GAP_SECONDS))

    def _planned(self, delay: float | None) -> None:
        if self._active and not self._running:
            self._arm(delay)

    def _plan_failed(self, exc: BaseException) -> None:
        log.error("could not read when the next sync is due", exc_info=exc)
        if self._active and not self._running:
            self._arm(self._scheduler.interval_seconds)

    def _arm(self, delay: float | None) -> None:
        # Not enrolled: look again after an interval (an officer may enrol it meanwhile).
        seconds = self._scheduler.interval_seconds if delay is None else delay
        self._timer.start(max(0, math.ceil(seconds * 1000)))


class ConsoleSync:
    """The officer console's Sync now, through the driver: `run_once` is called on the
    console's worker thread, asks the driver for a sync and waits there for its result."""

    def __init__(self, driver: SyncDriver) -> None:
        self._driver = driver

    def run_once(self, *, force: bool = False) -> SyncResult:
        return self._driver.run_and_wait(force=force)
