"""Enrolment from the console: runs `kiosk_app.sync.enrol` off the GUI thread and words the result.

The first sync (and its pack downloads) runs inside the enrolment, on the console's worker;
the progress bar is fed by the sync engine's progress callback through `DownloadRelay`.
Neither the code nor anything the server says about it is logged.
"""

from __future__ import annotations

import logging
from enum import Enum, auto
from urllib.parse import urlsplit

import requests
from pydantic import ValidationError
from PySide6.QtCore import QObject, Signal

from kiosk_app.store.db import Store
from kiosk_app.sync.engine import Outcome, SyncEngine
from kiosk_app.sync.enrol import AlreadyEnrolledError, Enrolled, enrol
from kiosk_app.sync.transport import RefusedError, SyncError, TransientError
from kiosk_app.ui.officer.background import ConsoleTasks
from kiosk_app.ui.officer.enrol import EnrolField, EnrolScreen
from kiosk_app.ui.officer.progress import DownloadRelay
from sync_server.protocol import Reason

log = logging.getLogger(__name__)

DEVICE_NAME = "Kiosk"


class EnrolProblem(Enum):
    BAD_ADDRESS = auto()
    NOT_HTTPS = auto()
    BAD_CODE = auto()  # not even the shape of a code
    CODE_REFUSED = auto()  # unknown, used or expired
    UNREACHABLE = auto()
    CERTIFICATE = auto()
    NOT_A_SYNC_SERVER = auto()
    BUSY = auto()
    ALREADY_ENROLLED = auto()
    REFUSED = auto()
    UNEXPECTED = auto()


def classify(exc: BaseException, *, server_url: str) -> EnrolProblem:
    """Which of the problems an officer can do something about `exc` is."""
    if isinstance(exc, AlreadyEnrolledError):
        return EnrolProblem.ALREADY_ENROLLED
    if isinstance(exc, ValidationError):  # the enrolment request refused the code's shape
        return EnrolProblem.BAD_CODE
    if isinstance(exc, ValueError):  # check_server_url
        parts = urlsplit(server_url.strip())
        plain_http = parts.scheme == "http" and bool(parts.hostname)
        return EnrolProblem.NOT_HTTPS if plain_http else EnrolProblem.BAD_ADDRESS
    if isinstance(exc, RefusedError):
        if exc.error == Reason.ENROLMENT_CODE_INVALID:
            return EnrolProblem.CODE_REFUSED
        if 300 <= exc.status < 400 or exc.status in (404, 405):
            return EnrolProblem.NOT_A_SYNC_SERVER
        return EnrolProblem.REFUSED
    if isinstance(exc, TransientError):
        cause = exc.__cause__
        if isinstance(cause, requests.exceptions.SSLError):
            return EnrolProblem.CERTIFICATE
        if isinstance(cause, requests.RequestException):
            return EnrolProblem.UNREACHABLE
        if isinstance(cause, ValidationError):  # an answer, but not a sync server's
            return EnrolProblem.NOT_A_SYNC_SERVER
        return EnrolProblem.BUSY
    if isinstance(exc, SyncError):
        return EnrolProblem.REFUSED
    return EnrolProblem.UNEXPECTED


class EnrolFlow(QObject):
    """Drives the enrolment screen; `left(enrolled)` when the officer is done with it."""

    left = Signal(bool)

    def __init__(
        self,
        *,
        screen: EnrolScreen,
        tasks: ConsoleTasks,
        store: Store,
        engine: SyncEngine | None,
        downloads: DownloadRelay,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._screen = screen
        self._tasks = tasks
        self._store = store
        self._engine = engine
        self._enrolled = False
        downloads.progress.connect(screen.show_progress)
        screen.enrol_requested.connect(self._enrol)
        screen.cancelled.connect(lambda: self.left.emit(self._enrolled))
        screen.finished.connect(lambda: self.left.emit(self._enrolled))

    def start(self) -> None:
        self._enrolled = False
        self._screen.start()

    def _enrol(self, server_url: str, code: str) -> None:
        screen, engine, store = self._screen, self._engine, self._store
        if engine is None:
            screen.show_error(self.tr("This kiosk was started without its sync client."))
            return
        if not code.strip():
            screen.show_error(self.tr("Type the enrolment code."), EnrolField.CODE)
            return
        screen.set_busy(True)
        screen.show_status(self.tr("Enrolling and downloading programmes…"))
        log.info("officer console: enrolling this kiosk")

        def work() -> Enrolled:
            return enrol(
                store=store,
                engine=engine,
                server_url=server_url,
                code=code,
                device_name=DEVICE_NAME,
            )

        self._tasks.submit(work, self._done, lambda exc: self._failed(exc, server_url=server_url))

    def _done(self, enrolled: Enrolled) -> None:
        self._enrolled = True
        where = self.tr("This kiosk is enrolled for %1, %2.")
        parts = [where.replace("%1", enrolled.force_name).replace("%2", enrolled.site_name)]
        first = enrolled.first_sync
        installed = ", ".join(f"{pack_id} v{version}" for pack_id, version in first.packs_installed)
        if installed:
            parts.append(self.tr("Programmes installed: %1.").replace("%1", installed))
        if first.outcome is not Outcome.SYNCED:
            parts.append(
                self.tr(
                    "The first sync did not finish; the kiosk will try again by itself, "
                    "or use Sync now in the console."
                )
            )
        self._screen.show_enrolled(" ".join(parts))

    def _failed(self, exc: BaseException, *, server_url: str) -> None:
        problem = classify(exc, server_url=server_url)
        if problem is EnrolProblem.UNEXPECTED:
            log.error("enrolment failed", exc_info=exc)
        else:
            log.info("enrolment refused: %s", problem.name)
        message, field = self._words(problem)
        self._screen.show_error(message, field)

    def _words(self, problem: EnrolProblem) -> tuple[str, EnrolField | None]:
        server, code = EnrolField.SERVER, EnrolField.CODE
        words = {
            EnrolProblem.BAD_ADDRESS: (
                self.tr("That is not a server address. It looks like https://sync.example.org."),
                server,
            ),
            EnrolProblem.NOT_HTTPS: (
                self.tr("The server address must start with https://."),
                server,
            ),
            EnrolProblem.BAD_CODE: (
                self.tr("That is not an enrolment code. Check it against the dashboard."),
                code,
            ),
            EnrolProblem.CODE_REFUSED: (
                self.tr(
                    "The server does not accept that enrolment code: it is wrong, already "
                    "used or expired. Check it, or ask for a new one."
                ),
                code,
            ),
            EnrolProblem.UNREACHABLE: (
                self.tr(
                    "The server cannot be reached. Check the address and that this kiosk "
                    "is connected to the network."
                ),
                server,
            ),
            EnrolProblem.CERTIFICATE: (
                self.tr("The server's security certificate could not be checked."),
                server,
            ),
            EnrolProblem.NOT_A_SYNC_SERVER: (
                self.tr("There is no sync server at that address. Check the address."),
                server,
            ),
            EnrolProblem.BUSY: (
                self.tr("The server is busy. Please try again in a few minutes."),
                None,
            ),
            EnrolProblem.ALREADY_ENROLLED: (self.tr("This kiosk is already enrolled."), None),
            EnrolProblem.REFUSED: (self.tr("The server refused the enrolment."), None),
            EnrolProblem.UNEXPECTED: (
                self.tr("Something went wrong. Please try again."),
                None,
            ),
        }
        return words[problem]
