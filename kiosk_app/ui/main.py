"""Runs the kiosk: QApplication, the locked window, the presenter, and the event loop."""

from __future__ import annotations

import gc
import importlib
import logging
import signal
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from kiosk_app.app import KeyStoreChoice
from kiosk_app.ui.boot import BootScreens, Loader, limit_malloc_arenas
from kiosk_app.ui.kiosk_window import add_participant_screens
from kiosk_app.ui.session import open_application, wait_for_fonts

# The presenter pulls in the core (SQLAlchemy): imported once the welcome screen is up.
if TYPE_CHECKING:
    from kiosk_app.app import KioskServices
    from kiosk_app.ui.sync_driver import SyncSetup

log = logging.getLogger(__name__)

# Everything `KioskUi` builds on, imported on the loader thread while the welcome screen is
# up, so that taking over costs the GUI thread no imports.
_WARM_MODULES = (
    "kiosk_app.core.officer",
    "kiosk_app.core.officer_auth",
    "kiosk_app.core.officer_lookup",
    "kiosk_app.sync.engine",
    "kiosk_app.ui.officer.presenter",
    "kiosk_app.ui.officer.progress",
    "kiosk_app.ui.presenter",
    "kiosk_app.ui.speech",
    "kiosk_app.ui.sync_driver",
    "kiosk_app.ui.tasks",
)
# The store starts opening once the welcome screen is painted; should no paint ever come
# (no window system exposes the window), it starts after this long all the same.
LOADER_FALLBACK_MS = 2000


class RunOptions(NamedTuple):
    """How `kiosk-app` runs the window (a named tuple: see kiosk_app.ui.viewmodels)."""

    data_dir: Path
    key_store: KeyStoreChoice = KeyStoreChoice.AUTO
    windowed: bool = False
    # The unrotated handler `kiosk-app` logs its first lines with; the loader rotates it.
    early_log: logging.FileHandler | None = None
    # Whether `kiosk-app` paused the garbage collector for the start (gc.disable); it resumes
    # once the services are ready (`resume_collector`).
    collector_paused: bool = False


class KioskUi:
    """The window and presenter over open services; `close()` signs out and stops everything.

    Given `boot` (the window already showing welcome or login), the presenter takes over
    from it where the person is; without, it builds the window and starts at welcome.
    """

    def __init__(
        self,
        app: QApplication,
        services: KioskServices,
        *,
        boot: BootScreens | None = None,
        sync: SyncSetup | None = None,
    ) -> None:
        from kiosk_app.core.officer import OfficerService
        from kiosk_app.core.officer_auth import OfficerLoginService
        from kiosk_app.core.officer_lookup import ParticipantLookup
        from kiosk_app.sync.engine import SyncEngine
        from kiosk_app.ui.officer.presenter import OfficerPresenter, add_officer_screens
        from kiosk_app.ui.officer.progress import DownloadRelay
        from kiosk_app.ui.presenter import KioskPresenter
        from kiosk_app.ui.speech import Speaker
        from kiosk_app.ui.sync_driver import ConsoleSync, NetworkWatch, SyncDriver, SyncSetup
        from kiosk_app.ui.tasks import TaskRunner

        self.services = services
        fresh = boot is None
        if boot is None:
            boot = BootScreens(app)
            boot.hand_over()
        self.translations = boot.translations
        self.window = boot.window
        self.screens = add_participant_screens(self.window)
        self.runner = TaskRunner()
        self.speaker = Speaker()
        self.presenter = KioskPresenter(
            window=self.window,
            screens=self.screens,
            session=services.session,
            library=services.library,
            clock=services.clock,
            runner=self.runner,
            translations=self.translations,
            app=app,
            speaker=self.speaker,
        )
        self.officer_runner = TaskRunner()
        store, clock = services.store, services.clock
        downloads = DownloadRelay()
        setup = sync or SyncSetup()
        engine = SyncEngine(
            store=store,
            clock=clock,
            progress=downloads.report,
            retry=setup.retry,
            backoff=setup.backoff,
        )
        # Syncs by itself: timer, sign-out, network back, and the console's Sync now.
        self.network = NetworkWatch()
        if setup.watch_network:
            self.network.start()
        self.sync = SyncDriver(engine=engine, scheduler=setup.scheduler, network=self.network)
        self.officer_screens = add_officer_screens(self.window)
        self.officer = OfficerPresenter(
            window=self.window,
            screens=self.officer_screens,
            kiosk=self.presenter,
            login=OfficerLoginService(store=store, clock=clock),
            officer=OfficerService(store=store, clock=clock),
            lookup=ParticipantLookup(store=store, clock=clock, library=services.library),
            engine=engine,
            sync=ConsoleSync(self.sync),
            store=store,
            clock=clock,
            runner=self.officer_runner,
            quit_app=app.quit,
            downloads=downloads,
        )
        downloads.setParent(self.officer)
        if fresh:
            self.presenter.start()
        else:
            self.presenter.take_over(boot.hand_over())
        self.officer.start()  # a blank kiosk goes on to enrolment
        self.presenter.signed_out.connect(lambda _reason: self.sync.request())
        self.officer.enrolment.left.connect(self._enrolment_left)
        self.sync.start()

    def _enrolment_left(self, enrolled: bool) -> None:
        if enrolled:  # newly enrolled: the timer follows this kiosk's syncs from now on
            self.sync.start()

    def close(self) -> None:
        self.sync.stop()  # first: it releases a Sync now the console's worker waits on
        self.network.stop()
        self.officer_runner.wait()
        self.runner.wait()
        self.officer.idle.stop()
        self.presenter.shutdown()
        self.window.allow_exit()
        self.window.close()


def resume_collector() -> None:
    """Collect garbage again after a start with the collector paused (`kiosk-app` pauses it).

    Everything built until now, Qt's types, the screens, and the modules the loader imported,
    lives as long as the process, so it is frozen (gc.freeze) and no collection walks it
    again. Paused until the services are ready, not only until the first paint: a collection
    on the loader thread holds the interpreter until it ends, however long the walk, and a
    tap on the screen meanwhile would wait for it.
    """
    gc.freeze()
    gc.enable()


def _quit_on_signals(app: QApplication) -> QTimer:
    """SIGTERM (shutdown) and SIGINT end the event loop cleanly, so the logout is journaled."""

    def handler(signum: int, _frame: object) -> None:
        log.info("signal %d: closing", signum)
        app.exit(0)  # exit, not quit: the kiosk window refuses to close

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    # Python runs signal handlers only between bytecodes; a cheap timer lets it in.
    wake = QTimer()
    wake.setInterval(200)
    wake.timeout.connect(lambda: None)
    wake.start()
    return wake


def _open_services(options: RunOptions) -> KioskServices:
    """On the loader thread: open the store (migrating if need be) and warm the presenter."""
    # First, before the pools and the media start threads. Here rather than on the GUI
    # thread as welcome is painted, where importing ctypes held up a first tap by 2 ms; the
    # loader's own arena and the main one are the two the cap allows, so the effect is the
    # same.
    limit_malloc_arenas()
    from kiosk_app.app import open_kiosk, rotate_logs

    if options.early_log is not None:
        rotate_logs(options.early_log, options.data_dir)
    services = open_kiosk(options.data_dir, key_store_choice=options.key_store)
    try:
        for name in _WARM_MODULES:  # imported here, off the GUI thread
            importlib.import_module(name)
    except BaseException:
        services.close()
        raise
    return services


def run(options: RunOptions) -> int:
    """Start the kiosk on `options.data_dir` and run until told to stop; the exit status.

    The window shows welcome first; once it is painted the store opens on a worker thread,
    and the presenter takes over when it is open. A store that cannot be opened ends the
    run with its error, raised here as before.
    """
    app = open_application()  # `kiosk-app` has made it already, before importing this module
    app.setApplicationName("Intervention Kiosk")
    boot = BootScreens(app)
    loader = Loader(lambda: _open_services(options))
    ui: KioskUi | None = None

    def load() -> None:
        if not loader.started:
            loader.start()

    def attach() -> None:
        nonlocal ui
        if loader.error is not None:
            log.error("the kiosk store could not be opened", exc_info=loader.error)
            app.exit(1)
            return
        ui = KioskUi(app, loader.result, boot=boot)
        if options.collector_paused:
            resume_collector()
        log.info("kiosk services ready")

    loader.done.connect(attach)
    boot.window.painted.connect(load)
    wake = _quit_on_signals(app)
    if options.windowed:  # for development; still refuses to close (Ctrl+C ends it)
        boot.window.resize(1280, 800)
        boot.window.show()
    else:
        boot.window.enter_kiosk_mode()
    QTimer.singleShot(LOADER_FALLBACK_MS, load)
    boot.start()
    log.info("kiosk started")
    try:
        status = app.exec()
        wake.stop()
        if ui is not None:
            ui.close()
    finally:
        loader.join()  # stopped while the store was opening: close it all the same
        wait_for_fonts()
        if loader.result is not None:
            loader.result.close()
    if loader.error is not None:
        raise loader.error
    log.info("kiosk stopped")
    return int(status)
