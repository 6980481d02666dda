"""The participant's journey on screen: welcome, login, first-login steps, Home, player, logout."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDate, QLocale, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication

from kiosk_app.core.auth import LoginOutcome, LoginResult, PinChoice
from kiosk_app.core.clock import Clock
from kiosk_app.core.home import local_today
from kiosk_app.core.idle import IdleTimer
from kiosk_app.core.library import PackLibrary, matching_language
from kiosk_app.core.session import KioskSession, LogoutReason
from kiosk_app.ui.i18n import SOURCE_LANGUAGE, Translations
from kiosk_app.ui.kiosk_window import KioskWindow, ParticipantScreens, ScreenName
from kiosk_app.ui.presenters import messages
from kiosk_app.ui.presenters.idle import IDLE_TICK_MS, IdleWatch
from kiosk_app.ui.presenters.player import STEP_TICK_MS, PlayerPresenter
from kiosk_app.ui.screens.completion import CompletionContent
from kiosk_app.ui.screens.home import ProgrammeCard
from kiosk_app.ui.speech import Speaker
from kiosk_app.ui.tasks import TaskRunner
from kiosk_app.ui.theme import apply_theme
from kiosk_app.ui.viewmodels import AccessibilityOptions

log = logging.getLogger(__name__)


class KioskPresenter(QObject):
    """Connects the window's screens to the kiosk session; holds no business rules.

    Slow work (argon2 PIN checks) goes through the task runner; a result that comes back
    after the participant was signed out (idle timeout while checking) is thrown away and
    the session signed out again, so nobody is left signed in behind the welcome screen.
    """

    screen_shown = Signal(str)
    signed_out = Signal(str)  # the LogoutReason value

    def __init__(
        self,
        *,
        window: KioskWindow,
        screens: ParticipantScreens,
        session: KioskSession,
        library: PackLibrary,
        clock: Clock,
        runner: TaskRunner,
        translations: Translations | None = None,
        app: QApplication | None = None,
        speaker: Speaker | None = None,
        idle_tick_ms: int = IDLE_TICK_MS,
        step_tick_ms: int = STEP_TICK_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._window = window
        self._screens = screens
        self._session = session
        self._library = library
        self._clock = clock
        self._runner = runner
        self._translations = translations
        self._app = app
        self._speaker = speaker
        self._generation = 0  # bumped at every sign-out; stale task results are dropped
        self.player = PlayerPresenter(
            frame=screens.step, speaker=speaker, tick_ms=step_tick_ms, parent=self
        )
        self.idle = IdleWatch(
            overlay=window.idle_overlay,
            make_timer=session.idle_timer,
            tick_ms=idle_tick_ms,
            parent=self,
        )
        self._connect()

    def _connect(self) -> None:
        w, s = self._window, self._screens
        w.welcome.start_requested.connect(self._show_login)
        w.welcome.language_chosen.connect(self._choose_language)
        w.welcome.accessibility_changed.connect(self._apply_accessibility)
        w.login.login_requested.connect(self._sign_in)
        # Also drops a PIN check still running: nobody is signed in behind the welcome screen.
        w.login.back_requested.connect(lambda: self.sign_out(LogoutReason.BREAK))
        w.user_activity.connect(self.idle.activity)
        w.watch_input()
        self.idle.timed_out.connect(lambda: self.sign_out(LogoutReason.IDLE))
        s.privacy.confirmed.connect(self._privacy_confirmed)
        s.choose_pin.pin_chosen.connect(self._choose_pin)
        s.home.continue_requested.connect(self._continue)
        s.home.rewrite_requested.connect(self._continue)
        s.home.break_requested.connect(lambda: self.sign_out(LogoutReason.BREAK))
        s.completion.done_requested.connect(lambda: self.sign_out(LogoutReason.FINISHED))
        self.player.break_requested.connect(lambda: self.sign_out(LogoutReason.BREAK))
        self.player.finished.connect(self._show_completion)
        self.player.attention.connect(self.idle.activity)

    # -- public API ---------------------------------------------------------------------------

    def start(self) -> None:
        """Show a fresh welcome screen (at start, and after every sign-out)."""
        if self._translations is not None:
            self._window.welcome.set_languages(self._translations.language_options())
        self._reset_screens()

    def take_over(self, pending_sign_in: tuple[str, str] | None = None) -> None:
        """Carry on from the boot screens (welcome or login, shown before the store opened)."""
        self._apply_accessibility(self._window.welcome.accessibility())
        if self._window.current_screen() == ScreenName.LOGIN:
            self.idle.start()
            if pending_sign_in is not None:
                self._sign_in(*pending_sign_in)

    def sign_out(self, reason: LogoutReason) -> None:
        """Whatever the reason, end with nothing of this person on screen and their work saved."""
        self._generation += 1
        self.idle.stop()
        self.player.close()  # saves the last draft while the player is still open
        someone = self._session.signed_in is not None
        if someone:
            self._session.logout(reason=reason)
        self._reset_screens()
        if someone:
            log.info("signed out (%s)", reason.value)
            self.signed_out.emit(reason.value)

    def shutdown(self) -> None:
        """The app is closing: sign out (journaling the time) and stop every timer."""
        self.sign_out(LogoutReason.OFFICER)

    def current_screen(self) -> str:
        return self._window.current_screen()

    def new_idle_timer(self) -> IdleTimer:
        """An idle timer with the kiosk's idle settings as they are now (the officer console
        locks itself after the same time)."""
        return self._session.idle_timer()

    # -- screens ------------------------------------------------------------------------------

    def _show(self, name: ScreenName) -> None:
        self._window.show_screen(name)
        # Logged once the change is painted (posted events run before timers): the
        # screenshot test waits for this line before grabbing the display.
        QTimer.singleShot(0, self, lambda: self._announce(name))

    def _announce(self, name: ScreenName) -> None:
        if self._window.current_screen() == name:
            log.info("screen shown: %s", name.value)
            self.screen_shown.emit(name.value)

    def _reset_screens(self) -> None:
        self.idle.stop()
        s = self._screens
        self._window.idle_overlay.dismiss()
        self._window.login.clear()
        s.choose_pin.clear()
        s.home.set_programmes([])
        s.completion.set_completion(CompletionContent("", "", ""))
        if self._speaker is not None:
            self._speaker.stop()
        # Announces the defaults, so the next person starts with standard text and colours.
        self._window.welcome.reset()
        self._show(ScreenName.WELCOME)

    def _show_login(self) -> None:
        self._window.login.clear()
        self.idle.start()
        self._show(ScreenName.LOGIN)

    def _choose_language(self, code: str) -> None:
        if self._translations is not None:
            self._translations.switch_to(code)

    def _speak_their_language(self, code: str) -> None:
        """Signed in: the kiosk in the language the participant registered with, when it has
        a translation for it, unless they chose a language on Welcome themselves (they are
        here, the registration may carry the form's default). The sign-out resets Welcome,
        and with it the kiosk's default language, for the next person."""
        if self._translations is None or self._translations.current != SOURCE_LANGUAGE:
            return
        found = matching_language(code, self._translations.available_codes())
        if found is not None and found != self._translations.current:
            self._translations.switch_to(found)

    def _apply_accessibility(self, options: AccessibilityOptions) -> None:
        if self._app is not None:
            apply_theme(self._app, options)
        self.player.set_read_aloud(options.read_aloud)

    # -- signing in ---------------------------------------------------------------------------

    def _in_background(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        generation = self._generation

        def deliver(result: object) -> None:
            if generation != self._generation:
                self._stale(result)
            else:
                done(result)

        def failed(exc: BaseException) -> None:
            log.error("a sign-in task failed", exc_info=exc)
            if generation == self._generation:
                self._window.login.keypad.set_locked(False)
                self._window.login.show_error(messages.something_went_wrong())

        self._runner.submit(work, on_done=deliver, on_error=failed)

    def _stale(self, result: object) -> None:
        if isinstance(result, LoginResult) and result.ok:
            # Signed in after the screen was cleared: sign straight out again.
            self._session.logout(reason=LogoutReason.IDLE)

    def _sign_in(self, access_code: str, pin: str) -> None:
        self._window.login.keypad.set_locked(True)
        session = self._session
        self._in_background(
            lambda: session.sign_in(access_code=access_code, pin=pin), self._signed_in
        )

    def _signed_in(self, result: LoginResult) -> None:
        login = self._window.login
        login.keypad.set_locked(False)
        if result.outcome is LoginOutcome.SIGNED_IN:
            who = self._session.signed_in
            assert who is not None
            login.clear()
            self.idle.start()
            self._speak_their_language(who.language)
            if who.needs_privacy_notice:
                self._show(ScreenName.PRIVACY)
            elif who.must_choose_pin:
                self._show_choose_pin()
            else:
                self._show_home()
        elif result.outcome is LoginOutcome.LOCKED:
            login.clear()
            login.show_error(messages.locked())
        elif result.outcome is LoginOutcome.WAIT:
            login.show_error(messages.please_wait(result.retry_after_seconds))
            login.start_cooldown(result.retry_after_seconds)
        else:
            login.show_error(messages.wrong_details())
            login.start_cooldown(result.retry_after_seconds)

    def _privacy_confirmed(self) -> None:
        self._session.confirm_privacy()
        who = self._session.signed_in
        if who is not None and who.must_choose_pin:
            self._show_choose_pin()
        else:
            self._show_home()

    def _show_choose_pin(self) -> None:
        self._screens.choose_pin.clear()
        self._show(ScreenName.CHOOSE_PIN)

    def _choose_pin(self, new_pin: str, confirm: str) -> None:
        keypad = self._screens.choose_pin.keypad
        keypad.set_locked(True)
        session = self._session

        def done(choice: PinChoice) -> None:
            keypad.set_locked(False)
            if choice.accepted:
                self._show_home()
            else:
                self._screens.choose_pin.show_problem(messages.pin_problem(choice.problem or ""))

        self._in_background(lambda: session.choose_pin(new_pin=new_pin, confirm=confirm), done)

    # -- Home, the player, completion ---------------------------------------------------------

    def _show_home(self) -> None:
        today = local_today(self._clock)
        cards = [ProgrammeCard.from_summary(s, today=today) for s in self._session.home()]
        self._screens.home.set_programmes(cards)
        self._show(ScreenName.HOME)

    def _continue(self, enrolment_id: str, step_id: str | None = None) -> None:
        player = self._session.open_enrolment(enrolment_id=enrolment_id, step_id=step_id)
        programme = player.programme
        pack = self._library.open(pack_id=programme.id, version=programme.version)
        self._show(ScreenName.STEP)
        self.player.open(player, pack)
        self._screens.step.setFocus(Qt.FocusReason.OtherFocusReason)

    def _show_completion(self) -> None:
        player = self.player.player
        completion = player.completion() if player is not None else None
        if completion is None:
            return
        day = completion.completed_at.astimezone().date()
        when = QLocale().toString(
            QDate(day.year, day.month, day.day), QLocale.FormatType.LongFormat
        )
        self._screens.completion.set_completion(
            CompletionContent(
                programme_title=completion.programme_title,
                reference=completion.reference,
                completed_on=when,
            )
        )
        self.player.close()
        self._show(ScreenName.COMPLETION)
