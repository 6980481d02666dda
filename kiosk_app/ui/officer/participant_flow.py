"""Participant tools on screen: search, the record with progress, PIN reset and unlock.

Lookups, argon2 and the journal writes run on the console's worker. Log lines name the
officer and the participant by identifier only: never a name, a query or a PIN.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QObject, Signal

from kiosk_app.core.home import EnrolmentSummary
from kiosk_app.core.officer import OfficerError, OfficerService, Problem
from kiosk_app.core.officer_lookup import ParticipantLookup, ParticipantMatch, ParticipantRecord
from kiosk_app.ui.kiosk_window import KioskWindow, ScreenName
from kiosk_app.ui.officer.background import ConsoleTasks
from kiosk_app.ui.officer.participants import (
    FindParticipantScreen,
    FoundRow,
    ParticipantScreen,
    ParticipantView,
    ProgressRow,
)
from kiosk_app.ui.officer.register import Slip, long_date

log = logging.getLogger(__name__)


class ParticipantFlow(QObject):
    """`slip_ready(Slip)` after a PIN reset; `left` when the officer goes back to the console."""

    slip_ready = Signal(object)
    left = Signal()

    def __init__(
        self,
        *,
        window: KioskWindow,
        find: FindParticipantScreen,
        record: ParticipantScreen,
        tasks: ConsoleTasks,
        lookup: ParticipantLookup,
        officer: OfficerService,
        officer_name: Callable[[], str | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._window = window
        self._find = find
        self._record = record
        self._tasks = tasks
        self._lookup = lookup
        self._officer = officer
        self._officer_name = officer_name
        self._current: str | None = None
        find.search_requested.connect(self._search)
        find.open_requested.connect(self.open)
        find.back_requested.connect(self.left)
        record.back_requested.connect(self._back_to_results)
        record.reset_requested.connect(self._reset)
        record.unlock_requested.connect(self._unlock)

    def start(self) -> None:
        self._current = None
        self._find.start()
        self._record.clear()
        self._window.show_screen(ScreenName.PARTICIPANTS)

    def clear(self) -> None:
        """Locked: nothing of anyone stays on these screens."""
        self._current = None
        self._find.start()
        self._record.clear()

    def open(self, participant_id: str) -> None:
        self._current = participant_id
        self._find.set_busy(True)
        lookup = self._lookup
        self._tasks.submit(lambda: lookup.record(participant_id), self._show, self._failed)

    def reopen(self) -> None:
        """Back from the slip: the record again, as it is now."""
        if self._current is None:
            self.left.emit()
        else:
            self.open(self._current)

    # -- searching ----------------------------------------------------------------------------

    def _search(self, query: str) -> None:
        if not query.strip():
            self._find.show_results([], self.tr("Type an access code or a first name."))
            return
        self._find.set_busy(True)
        lookup = self._lookup
        self._tasks.submit(lambda: lookup.find(query), self._found, self._failed)

    def _found(self, matches: list[ParticipantMatch]) -> None:
        rows = [FoundRow(m.participant_id, self._found_text(m)) for m in matches]
        if rows:
            summary = self.tr("Participants found: %1").replace("%1", str(len(rows)))
        else:
            summary = self.tr("No participant on this kiosk matches.")
        self._find.show_results(rows, summary)

    def _found_text(self, match: ParticipantMatch) -> str:
        text = f"{match.first_name} — {match.access_code}"
        return f"{text} — {self.tr('locked')}" if match.locked else text

    # -- the record ---------------------------------------------------------------------------

    def _show(self, record: ParticipantRecord) -> None:
        self._find.set_busy(False)
        self._record.set_busy(False)
        self._record.show_message("")
        self._record.show_participant(self._view(record))
        self._window.show_screen(ScreenName.PARTICIPANT)

    def _back_to_results(self) -> None:
        self._record.clear()
        self._window.show_screen(ScreenName.PARTICIPANTS)

    def _view(self, record: ParticipantRecord) -> ParticipantView:
        if record.locked:
            sign_in = self.tr("Locked after too many wrong PINs. Unlock, or reset the PIN.")
        elif record.must_choose_pin:
            sign_in = self.tr("Has a temporary PIN: will choose their own at the next sign-in.")
        elif record.failed_pin_attempts:
            sign_in = self.tr("Can sign in. Wrong PINs in a row: %1.").replace(
                "%1", str(record.failed_pin_attempts)
            )
        else:
            sign_in = self.tr("Can sign in.")
        return ParticipantView(
            participant_id=record.participant_id,
            heading=self.tr("Participant: %1").replace("%1", record.first_name),
            access_code=record.access_code,
            sign_in=sign_in,
            locked=record.locked,
            programmes=tuple(self._programme(e) for e in record.enrolments),
        )

    def _programme(self, e: EnrolmentSummary) -> ProgressRow:
        if not e.available:
            state = self.tr("not on this kiosk yet")
        elif e.complete:
            state = self.tr("complete")
        else:
            state = self.tr("%1 % done").replace("%1", str(e.percent))
        parts = [f"{e.title}: {state}"]
        if not e.complete:
            when = self.tr("overdue since %1") if e.overdue else self.tr("due %1")
            parts.append(when.replace("%1", long_date(e.due_date)))
        if e.completion_reference:
            parts.append(self.tr("reference %1").replace("%1", e.completion_reference))
        modules = tuple(
            f"{m.title}: "
            + (self.tr("complete") if m.complete else self.tr("%1 %").replace("%1", str(m.percent)))
            for m in e.modules
        )
        return ProgressRow(", ".join(parts), modules)

    # -- reset and unlock ---------------------------------------------------------------------

    def _reset(self, participant_id: str) -> None:
        self._record.set_busy(True)
        officer, lookup = self._officer, self._lookup

        by = self._officer_name()

        def work() -> tuple[str, ParticipantRecord]:
            pin = officer.reset_pin(participant_id=participant_id, officer=by)
            return pin, lookup.record(participant_id)

        log.info("officer %s resets the PIN of participant %s", by, participant_id)
        self._tasks.submit(work, self._was_reset, self._failed)

    def _was_reset(self, result: tuple[str, ParticipantRecord]) -> None:
        pin, record = result
        self._record.set_busy(False)
        self.slip_ready.emit(self._slip(record, pin))

    def _slip(self, record: ParticipantRecord, pin: str) -> Slip:
        open_ones = [e for e in record.enrolments if not e.complete] or list(record.enrolments)
        programmes = "; ".join(e.title for e in open_ones) or self.tr("None")
        due: date | None = min((e.due_date for e in open_ones), default=None)
        deadline = long_date(due) if due is not None else self.tr("None")
        return Slip(record.access_code, pin, programmes, deadline)

    def _unlock(self, participant_id: str) -> None:
        self._record.set_busy(True)
        officer, lookup = self._officer, self._lookup

        by = self._officer_name()

        def work() -> ParticipantRecord:
            officer.unlock(participant_id=participant_id, officer=by)
            return lookup.record(participant_id)

        log.info("officer %s unlocks participant %s", by, participant_id)
        self._tasks.submit(work, self._unlocked, self._failed)

    def _unlocked(self, record: ParticipantRecord) -> None:
        self._show(record)
        self._record.show_message(self.tr("Unlocked. They can sign in with their own PIN again."))

    def _failed(self, exc: BaseException) -> None:
        self._find.set_busy(False)
        self._record.set_busy(False)
        if isinstance(exc, OfficerError) and exc.problem is Problem.NO_SUCH_PARTICIPANT:
            message = self.tr("That participant is no longer on this kiosk.")
        else:
            log.error("a participant tool failed", exc_info=exc)
            message = self.tr("Something went wrong. Please try again.")
        if self._window.current_screen() == ScreenName.PARTICIPANT:
            self._record.show_message(message)
        else:
            self._find.show_results([], message)
