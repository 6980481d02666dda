"""One participant's time at the kiosk: sign in, Home, the player, break and logout."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from enum import StrEnum

from kiosk_app.core.auth import LoginResult, LoginService, PinChoice
from kiosk_app.core.clock import Clock
from kiosk_app.core.home import EnrolmentSummary, HomeService
from kiosk_app.core.idle import IdleTimer
from kiosk_app.core.library import PackLibrary
from kiosk_app.core.player import ProgrammePlayer
from kiosk_app.store import journal, repos
from kiosk_app.store.db import Store

log = logging.getLogger(__name__)


class LogoutReason(StrEnum):
    BREAK = "break"
    IDLE = "idle"
    FINISHED = "finished"
    OFFICER = "officer"


class NotSignedInError(RuntimeError):
    """An action that needs a participant, with nobody signed in."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    participant_id: str
    first_name: str
    language: str
    needs_privacy_notice: bool
    must_choose_pin: bool


class KioskSession:
    """Who is signed in, and the services acting for them; logout forgets all of it."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        login: LoginService,
        library: PackLibrary,
    ) -> None:
        self._store = store
        self._clock = clock
        self._login = login
        self._library = library
        self._home = HomeService(store=store, clock=clock, library=library)
        self._who: SignedIn | None = None
        self._player: ProgrammePlayer | None = None

    @property
    def signed_in(self) -> SignedIn | None:
        return self._who

    @property
    def player(self) -> ProgrammePlayer | None:
        return self._player

    def idle_timer(self) -> IdleTimer:
        with self._store.unit() as s:
            settings = repos.settings(s)
        return IdleTimer.from_settings(clock=self._clock, settings=settings)

    def sign_in(self, *, access_code: str, pin: str) -> LoginResult:
        """Check the code and PIN (slow: call off the GUI thread); on success, sign them in."""
        if self._who is not None:
            self.logout(reason=LogoutReason.BREAK)
        result = self._login.attempt(access_code=access_code, pin=pin)
        if result.ok:
            assert result.participant_id is not None
            with self._store.unit() as s:
                person = repos.participant(s, result.participant_id)
                assert person is not None
                self._who = SignedIn(
                    participant_id=person.id,
                    first_name=person.first_name,
                    language=person.language,
                    needs_privacy_notice=result.needs_privacy_notice,
                    must_choose_pin=result.must_choose_pin,
                )
        return result

    def _require(self) -> SignedIn:
        if self._who is None:
            raise NotSignedInError("nobody is signed in")
        return self._who

    def confirm_privacy(self) -> None:
        who = self._require()
        self._login.confirm_privacy(participant_id=who.participant_id)
        self._who = dataclasses.replace(who, needs_privacy_notice=False)

    def choose_pin(self, *, new_pin: str, confirm: str) -> PinChoice:
        who = self._require()
        choice = self._login.choose_pin(
            participant_id=who.participant_id, new_pin=new_pin, confirm=confirm
        )
        if choice.accepted:
            self._who = dataclasses.replace(who, must_choose_pin=False)
        return choice

    def home(self) -> list[EnrolmentSummary]:
        who = self._require()
        return self._home.enrolments(participant_id=who.participant_id, language=who.language)

    def open_enrolment(self, *, enrolment_id: str, step_id: str | None = None) -> ProgrammePlayer:
        """The player for one of the signed-in participant's enrolments (Continue); at
        `step_id` if given and open (a returned reflection or letter to rewrite)."""
        who = self._require()
        with self._store.unit() as s:
            enrolment = repos.enrolment(s, enrolment_id)
            if enrolment is None or enrolment.participant_id != who.participant_id:
                raise LookupError("no such enrolment for this participant")
            pack_id, version = enrolment.programme_id, enrolment.programme_version
            if step_id is not None:
                # The player starts where the resume pointer is, if that step is open.
                repos.set_resume_step(
                    s,
                    participant_id=who.participant_id,
                    enrolment_id=enrolment_id,
                    step_id=step_id,
                    at=self._clock.now(),
                )
        if self._player is not None:
            self._player.close()
        programme = self._library.programme(pack_id=pack_id, version=version)
        self._player = ProgrammePlayer(
            store=self._store,
            clock=self._clock,
            programme=programme,
            participant_id=who.participant_id,
            enrolment_id=enrolment_id,
            # Shown in their language when there is a version of it; judged as enrolled.
            shown=self._library.language_version(programme, language=who.language),
        )
        return self._player

    def take_a_break(self) -> None:
        self.logout(reason=LogoutReason.BREAK)

    def logout(self, *, reason: LogoutReason) -> None:
        """Journal the dwell so far and `session.ended`, then forget the participant."""
        who, player = self._who, self._player
        # Forget first: whatever happens below, nothing of this person stays on screen.
        self._who = None
        self._player = None
        if who is None:
            return
        if player is not None:
            player.close()
        with self._store.unit() as s:
            journal.record(
                s,
                event_type="session.ended",
                participant_id=who.participant_id,
                data={"reason": reason.value},
                clock=self._clock,
            )
        log.info("participant %s signed out (%s)", who.participant_id, reason.value)
