"""Registering a participant on screen: the form with the kiosk's programmes and languages,
the registration on the console's worker, and its refusals in the console's language.

`slip_ready(Slip)` carries the new participant's credentials for the slip screen; `failed`
an error reading what the form offers. Log lines name identifiers only, never a name or PIN.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from PySide6.QtCore import QObject, Signal

from kiosk_app.core.clock import Clock
from kiosk_app.core.home import local_today
from kiosk_app.core.officer import Credentials, OfficerError, OfficerService, Problem
from kiosk_app.ui.i18n import native_language_name
from kiosk_app.ui.kiosk_window import KioskWindow, ScreenName
from kiosk_app.ui.officer.background import ConsoleTasks
from kiosk_app.ui.officer.register import RegisterScreen, RegistrationForm, Slip, long_date

log = logging.getLogger(__name__)

DEFAULT_DUE_DAYS = 28


class RegisterFlow(QObject):
    slip_ready = Signal(object)  # the Slip of the participant just registered
    failed = Signal(object)  # the exception met reading the programmes and languages

    def __init__(
        self,
        *,
        window: KioskWindow,
        screen: RegisterScreen,
        tasks: ConsoleTasks,
        officer: OfficerService,
        clock: Clock,
        officer_name: Callable[[], str | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._window = window
        self._screen = screen
        self._tasks = tasks
        self._officer = officer
        self._clock = clock
        self._officer_name = officer_name
        screen.submitted.connect(self._register)

    def start(self) -> None:
        """An empty form offering the kiosk's programmes and their languages."""
        officer = self._officer
        due = local_today(self._clock) + timedelta(days=DEFAULT_DUE_DAYS)

        def gather() -> tuple[list[tuple[str, str]], list[str]]:
            return officer.programmes(), officer.languages()

        def show(found: tuple[list[tuple[str, str]], list[str]]) -> None:
            programmes, codes = found
            languages = [(code, native_language_name(code)) for code in codes]
            self._screen.start(programmes=programmes, due=due, languages=languages)
            self._window.show_screen(ScreenName.REGISTER)

        self._tasks.submit(gather, show, self.failed.emit)

    def _register(self, form: RegistrationForm) -> None:
        screen = self._screen
        screen.set_busy(True)
        officer, by = self._officer, self._officer_name()

        def work() -> Credentials:
            return officer.register(
                first_name=form.first_name,
                force_reference=form.force_reference,
                programme_id=form.programme_id,
                disposal_type=form.disposal_type,
                conditions=form.conditions,
                due_date=form.due_date,
                language=form.language,
                officer=by,
            )

        def failed(exc: BaseException) -> None:
            screen.set_busy(False)
            if isinstance(exc, OfficerError):
                screen.show_error(self._refusal(exc))
            else:
                log.error("registration failed", exc_info=exc)
                screen.show_error(self.tr("Something went wrong. Please try again."))

        self._tasks.submit(work, self._registered, failed)

    def _refusal(self, exc: OfficerError) -> str:
        """The service's refusal in the console's language."""
        fields = {
            "first_name": self.tr("the first name"),
            "force_reference": self.tr("the force reference"),
            "disposal_type": self.tr("the disposal type"),
            "conditions": self.tr("the conditions"),
            "programme_id": self.tr("the programme"),
            "due_date": self.tr("the due date"),
        }
        if exc.problem is Problem.INVALID_FIELD:
            what = fields.get(exc.field or "", self.tr("the details"))
            return self.tr("Please check %1.").replace("%1", what)
        words = {
            Problem.NOT_ENROLLED: self.tr("Enrol this kiosk before registering participants."),
            Problem.PROGRAMME_MISSING: self.tr(
                "That programme is not on this kiosk yet. Sync first."
            ),
            Problem.DUE_DATE_PAST: self.tr("The due date is in the past."),
            Problem.CODES_USED_UP: self.tr(
                "This kiosk has used all its access codes; enrol it again."
            ),
            Problem.NO_SUCH_PARTICIPANT: self.tr("That participant is no longer on this kiosk."),
        }
        return words.get(exc.problem, self.tr("Something went wrong. Please try again."))

    def _registered(self, credentials: Credentials) -> None:
        self._screen.set_busy(False)
        self.slip_ready.emit(
            Slip(
                access_code=credentials.access_code,
                temporary_pin=credentials.temporary_pin,
                programme=credentials.programme_title,
                deadline=long_date(credentials.due_date),
            )
        )
