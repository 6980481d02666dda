"""The officer console on screen: opening it, signing in, status, sync, registration, exit.

Every slow call (argon2, sync, registration, reading the disk) goes through the task runner;
opening the console first signs out any participant, so nobody's session is left behind it.
A kiosk that is not enrolled and has no officer account (fresh, or wiped after revocation)
has nobody who could sign in: there the console opens on enrolment, whose one-time code is
the key, and a blank kiosk shows enrolment as soon as it starts. Enrolling
(`enrol_flow`), registering (`register_flow`) and the participant tools
(`participant_flow`) each have their own flow.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata

from PySide6.QtCore import QDateTime, QLocale, QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog

from kiosk_app.core.clock import Clock
from kiosk_app.core.officer import (
    DeviceSetup,
    OfficerService,
)
from kiosk_app.core.officer_auth import OfficerLoginResult, OfficerLoginService, OfficerOutcome
from kiosk_app.core.officer_lookup import ParticipantLookup
from kiosk_app.core.session import LogoutReason
from kiosk_app.store.db import Store
from kiosk_app.sync.engine import Outcome, RunsSyncs, SyncEngine, SyncResult
from kiosk_app.sync.status import SyncStatus, read_status
from kiosk_app.ui.kiosk_window import KioskWindow, ScreenName
from kiosk_app.ui.officer.background import ConsoleTasks
from kiosk_app.ui.officer.console import ConsoleScreen
from kiosk_app.ui.officer.enrol import EnrolScreen
from kiosk_app.ui.officer.enrol_flow import EnrolFlow
from kiosk_app.ui.officer.participant_flow import ParticipantFlow
from kiosk_app.ui.officer.participants import FindParticipantScreen, ParticipantScreen
from kiosk_app.ui.officer.printing import PrinterChoice, SlipPrinter, ask_for_printer
from kiosk_app.ui.officer.progress import DownloadRelay
from kiosk_app.ui.officer.register import (
    RegisterScreen,
    Slip,
    SlipScreen,
)
from kiosk_app.ui.officer.register_flow import RegisterFlow
from kiosk_app.ui.officer.sign_in import OfficerSignInScreen
from kiosk_app.ui.presenter import KioskPresenter
from kiosk_app.ui.presenters.idle import IDLE_TICK_MS, IdleWatch
from kiosk_app.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

OPEN_SHORTCUT = "Ctrl+Alt+O"


@dataclass(frozen=True, slots=True)
class OfficerScreens:
    sign_in: OfficerSignInScreen
    console: ConsoleScreen
    register: RegisterScreen
    slip: SlipScreen
    enrol: EnrolScreen
    find: FindParticipantScreen
    participant: ParticipantScreen


def add_officer_screens(window: KioskWindow) -> OfficerScreens:
    parent = window.screen_parent()  # made inside the window's stack, not moved in
    screens = OfficerScreens(
        OfficerSignInScreen(parent),
        ConsoleScreen(parent),
        RegisterScreen(parent),
        SlipScreen(parent),
        EnrolScreen(parent),
        FindParticipantScreen(parent),
        ParticipantScreen(parent),
    )
    window.add_screen(ScreenName.OFFICER_SIGN_IN, screens.sign_in)
    window.add_screen(ScreenName.CONSOLE, screens.console)
    window.add_screen(ScreenName.REGISTER, screens.register)
    window.add_screen(ScreenName.SLIP, screens.slip)
    window.add_screen(ScreenName.ENROL, screens.enrol)
    window.add_screen(ScreenName.PARTICIPANTS, screens.find)
    window.add_screen(ScreenName.PARTICIPANT, screens.participant)
    return screens


def app_version() -> str:
    try:
        return metadata.version("intervention-kiosk")
    except metadata.PackageNotFoundError:
        return "unknown"


class OfficerPresenter(QObject):
    opened = Signal()
    closed = Signal()

    def __init__(
        self,
        *,
        window: KioskWindow,
        screens: OfficerScreens,
        kiosk: KioskPresenter,
        login: OfficerLoginService,
        officer: OfficerService,
        lookup: ParticipantLookup,
        engine: SyncEngine | None,
        store: Store,
        clock: Clock,
        runner: TaskRunner,
        quit_app: Callable[[], None],
        downloads: DownloadRelay | None = None,
        choose_printer: PrinterChoice = ask_for_printer,
        sync: RunsSyncs | None = None,
        idle_tick_ms: int = IDLE_TICK_MS,
        parent: QObject | None = None,
    ) -> None:
        """`downloads` must be the relay whose `report` the engine was given as its progress
        callback; without one, no download progress is shown."""
        super().__init__(parent)
        self._window = window
        self._screens = screens
        self._kiosk = kiosk
        self._login = login
        self._officer = officer
        self._engine = engine
        # Sync now runs through `sync` (the kiosk's sync driver) when given.
        self._sync: RunsSyncs | None = sync or engine
        self._store = store
        self._clock = clock
        self._runner = runner
        self._quit_app = quit_app
        self._choose_printer = choose_printer
        self._printer = SlipPrinter(self)
        self._signed_in: str | None = None  # the officer's username
        self._locks = 0  # how many times the console has locked: a dialog open across one ends
        self._tasks = ConsoleTasks(runner)  # invalidated at every lock: stale results dropped
        self._after_slip: Callable[[], None] = self._show_console
        downloads = downloads or DownloadRelay(parent=self)
        self.enrolment = EnrolFlow(
            screen=screens.enrol,
            tasks=self._tasks,
            store=store,
            engine=engine,
            downloads=downloads,
            parent=self,
        )
        self.participants = ParticipantFlow(
            window=window,
            find=screens.find,
            record=screens.participant,
            tasks=self._tasks,
            lookup=lookup,
            officer=officer,
            officer_name=lambda: self._signed_in,
            parent=self,
        )
        self.registration = RegisterFlow(
            window=window,
            screen=screens.register,
            tasks=self._tasks,
            officer=officer,
            clock=clock,
            officer_name=lambda: self._signed_in,
            parent=self,
        )
        downloads.progress.connect(screens.console.show_progress)
        # An officer who walks away leaves registration, PIN resets and a slip with a new PIN
        # on screen: after the kiosk's idle time (and its warning) the console locks itself.
        # A download in progress counts as activity: the officer is watching it.
        self.idle = IdleWatch(
            overlay=window.idle_overlay,
            make_timer=kiosk.new_idle_timer,
            tick_ms=idle_tick_ms,
            parent=self,
        )
        window.user_activity.connect(self.idle.activity)
        downloads.progress.connect(self.idle.activity)
        self.idle.timed_out.connect(self._lock_when_idle)
        self._shortcut = QShortcut(QKeySequence(OPEN_SHORTCUT), window)
        self._shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
        self._shortcut.activated.connect(self.open)
        window.welcome.officer_requested.connect(self.open)
        s = screens
        s.sign_in.sign_in_requested.connect(self._sign_in)
        s.sign_in.cancelled.connect(self.lock)
        s.console.sync_requested.connect(self._sync_now)
        s.console.register_requested.connect(self.registration.start)
        s.console.find_requested.connect(self.participants.start)
        s.console.enrol_requested.connect(self._show_enrol)
        s.console.lock_requested.connect(self.lock)
        s.console.exit_requested.connect(self._exit_kiosk)
        s.register.cancelled.connect(self._show_console)
        s.slip.done.connect(self._slip_done)
        s.slip.print_requested.connect(self._print_slip)
        self.enrolment.left.connect(self._enrolment_left)
        self.participants.left.connect(self._show_console)
        self.participants.slip_ready.connect(self._show_reset_slip)
        self.registration.slip_ready.connect(self._show_new_slip)
        self.registration.failed.connect(self._task_failed)

    @property
    def signed_in(self) -> bool:
        return self._signed_in is not None

    def start(self) -> None:
        """At start: a blank kiosk (not enrolled, nobody on it) shows enrolment at once."""
        officer = self._officer

        def blank(setup: DeviceSetup) -> None:
            if setup.blank and self._window.current_screen() in _PARTICIPANT_FRONT:
                log.info("this kiosk is not enrolled: showing enrolment")
                self._show_enrol()

        self._tasks.submit(officer.device_setup, blank, self._task_failed)

    def open(self) -> None:
        """Sign out any participant and ask for officer credentials (or, where nobody could
        sign in, for the enrolment code)."""
        if self._window.current_screen() in _OFFICER_SCREENS:
            return
        self._kiosk.sign_out(LogoutReason.OFFICER)
        self._screens.sign_in.clear()
        self._window.show_screen(ScreenName.OFFICER_SIGN_IN)
        self.idle.start()
        log.info("officer console asked for")
        self.opened.emit()

        def route(setup: DeviceSetup) -> None:
            on_sign_in = self._window.current_screen() == ScreenName.OFFICER_SIGN_IN
            if setup.console_needs_enrolment and on_sign_in:
                self._show_enrol()

        self._tasks.submit(self._officer.device_setup, route, self._task_failed)

    def lock(self) -> None:
        """Back to the welcome screen; the next officer signs in again."""
        self._locks += 1
        self.idle.stop()
        self._close_dialogs()
        self._tasks.invalidate()
        self._signed_in = None
        self._screens.sign_in.clear()
        self._screens.slip.clear()
        self._screens.console.show_message("")
        self.participants.clear()
        self._screens.enrol.start()
        self._kiosk.start()
        self.closed.emit()

    def _close_dialogs(self) -> None:
        # A dialog of the console (the printer choice) runs an event loop of its own, where
        # the idle lock can come. Left open it would sit over the welcome screen, and a
        # printer chosen in it afterwards would print a slip, PIN and all, for nobody.
        for dialog in self._window.findChildren(QDialog):
            if dialog.isVisible():
                dialog.reject()

    def _lock_when_idle(self) -> None:
        log.info("officer console locked after inactivity")
        self.lock()

    # -- signing in ---------------------------------------------------------------------------

    def _sign_in(self, username: str, password: str) -> None:
        self._screens.sign_in.set_busy(True)
        login = self._login
        self._tasks.submit(
            lambda: login.attempt(username=username, password=password),
            self._signed_in_result,
            self._sign_in_failed,
        )

    def _signed_in_result(self, result: OfficerLoginResult) -> None:
        screen = self._screens.sign_in
        screen.set_busy(False)
        if result.ok and result.officer is not None:
            self._signed_in = result.officer.username
            screen.clear()
            self._screens.console.set_officer(result.officer.display_name)
            self._show_console()
        elif result.outcome is OfficerOutcome.LOCKED:
            screen.show_error(self.tr("Too many wrong passwords. Please try again later."))
        elif result.outcome is OfficerOutcome.WAIT:
            screen.show_error(self.tr("Please wait a few seconds before trying again."))
        else:
            screen.show_error(self.tr("That username and password do not match."))

    def _sign_in_failed(self, exc: BaseException) -> None:
        log.error("officer sign-in failed", exc_info=exc)
        self._screens.sign_in.set_busy(False)
        self._screens.sign_in.show_error(self.tr("Something went wrong. Please try again."))

    # -- the console --------------------------------------------------------------------------

    def _show_console(self) -> None:
        self._window.show_screen(ScreenName.CONSOLE)
        self._refresh_status()

    def _refresh_status(self) -> None:
        store, syncing = self._store, self._runner.busy

        def gather() -> tuple[SyncStatus, int]:
            return read_status(store, syncing=syncing), shutil.disk_usage(store.data_dir).free

        self._tasks.submit(gather, self._show_status, self._task_failed)

    def _show_status(self, found: tuple[SyncStatus, int]) -> None:
        status, free = found
        self._screens.console.set_enrolled(status.provisioned)
        never = self.tr("Never")
        if status.last_success_at is None:
            last = never
        else:
            when = QDateTime.fromSecsSinceEpoch(int(status.last_success_at.timestamp()))
            last = QLocale().toString(when, QLocale.FormatType.ShortFormat)
        packs = ", ".join(f"{pack_id} v{version}" for pack_id, version in status.packs)
        if status.provisioned:
            device = f"{status.force_name or ''}, {status.site_name or ''}".strip(", ")
        else:
            device = self.tr("Not enrolled yet")
        self._screens.console.set_status(
            [
                (self.tr("This kiosk"), device),
                (self.tr("Last successful sync"), last),
                (self.tr("Events waiting"), str(status.events_waiting)),
                (self.tr("Packs cached"), packs or self.tr("None")),
                (self.tr("App version"), app_version()),
                (self.tr("Free disk"), self.tr("%1 MB").replace("%1", f"{free // 1_000_000:,}")),
                (self.tr("Last error"), status.last_error or self.tr("None")),
            ]
        )

    def _task_failed(self, exc: BaseException) -> None:
        log.error("an officer console task failed", exc_info=exc)
        self._screens.console.show_message(self.tr("Something went wrong. Please try again."))

    def _sync_now(self) -> None:
        console = self._screens.console
        engine = self._sync
        if engine is None:
            console.show_message(self.tr("Enrol this kiosk before syncing."))
            return
        console.set_syncing(True)
        console.show_message(self.tr("Syncing…"))

        def failed(exc: BaseException) -> None:
            console.set_syncing(False)
            self._task_failed(exc)

        self._tasks.submit(lambda: engine.run_once(force=True), self._synced, failed)

    def _synced(self, result: SyncResult) -> None:
        console = self._screens.console
        console.set_syncing(False)
        messages = {
            Outcome.SYNCED: self.tr("Sync finished."),
            Outcome.FAILED: self.tr("Sync failed; the kiosk will try again by itself."),
            Outcome.REFUSED: self.tr("The server refused the sync."),
            Outcome.WIPED: self.tr("This kiosk was withdrawn by the server; its data is erased."),
            Outcome.BUSY: self.tr("A sync is already running."),
            Outcome.WAITING: self.tr("Sync is waiting to try again."),
            Outcome.NOT_ENROLLED: self.tr("Enrol this kiosk before syncing."),
        }
        message = messages[result.outcome]
        if result.error and result.outcome is not Outcome.SYNCED:
            message = f"{message} {result.error}"
        console.show_message(message)
        self._refresh_status()

    # -- the slip -----------------------------------------------------------------------------

    def _show_slip(self, slip: Slip, *, then: Callable[[], None]) -> None:
        self._after_slip = then
        self._screens.slip.show_slip(slip)
        self._window.show_screen(ScreenName.SLIP)

    def _show_new_slip(self, slip: Slip) -> None:
        self._show_slip(slip, then=self._show_console)

    def _show_reset_slip(self, slip: Slip) -> None:
        self._show_slip(slip, then=self.participants.reopen)

    def _print_slip(self, slip: Slip) -> None:
        screen = self._screens.slip
        locks = self._locks
        printer = self._choose_printer(self._window)
        if self._locks != locks:  # locked while the printer was being chosen
            log.info("credentials slip not printed: the console locked meanwhile")
            return
        if printer is None:
            screen.show_message(self.tr("Not printed."))
            return
        if self._printer.print_slip(slip, printer):
            log.info("credentials slip sent to the printer")
            screen.show_message(self.tr("Sent to the printer."))
        else:
            log.warning("the credentials slip could not be printed")
            screen.show_message(self.tr("The slip could not be printed. Write it down instead."))

    def _slip_done(self) -> None:
        self._screens.slip.clear()  # the PIN leaves the screen for good
        self._after_slip()

    # -- enrolling ----------------------------------------------------------------------------

    def _show_enrol(self) -> None:
        self.enrolment.start()
        self._window.show_screen(ScreenName.ENROL)

    def _enrolment_left(self, enrolled: bool) -> None:
        if self._signed_in is not None:
            self._show_console()
        elif enrolled:  # officer accounts came with the first sync: sign in with one
            self._screens.sign_in.clear()
            self._window.show_screen(ScreenName.OFFICER_SIGN_IN)
        else:
            self.lock()

    # -- leaving ------------------------------------------------------------------------------

    def _exit_kiosk(self) -> None:
        log.info("officer closed the kiosk")
        self.idle.stop()
        self._tasks.invalidate()
        self._window.allow_exit()
        self._window.close()
        self._quit_app()


_OFFICER_SCREENS = {
    ScreenName.OFFICER_SIGN_IN,
    ScreenName.CONSOLE,
    ScreenName.REGISTER,
    ScreenName.SLIP,
    ScreenName.ENROL,
    ScreenName.PARTICIPANTS,
    ScreenName.PARTICIPANT,
}
# Where a kiosk with nobody signed in rests; a blank kiosk leaves them for enrolment.
_PARTICIPANT_FRONT = {ScreenName.WELCOME, ScreenName.LOGIN}
