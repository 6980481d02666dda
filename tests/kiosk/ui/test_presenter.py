"""The presenter on the real window and services: login rules, idle, accessibility, cleanup."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor
from PySide6.QtTextToSpeech import QTextToSpeech
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit, QScrollBar, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from content_packs import model
from kiosk_app.app import KioskServices
from kiosk_app.core.clock import ManualClock
from kiosk_app.core.session import LogoutReason
from kiosk_app.store import repos
from kiosk_app.store.models import JournalEvent
from kiosk_app.ui.steps.media import MediaView
from kiosk_app.ui.theme import CALM, HIGH_CONTRAST
from kiosk_app.ui.viewmodels import TextSize
from tests.kiosk.ui.test_kiosk_window import INTERACTIVE
from tests.support.kiosk import (
    TEMPORARY_PIN,
    SamplePack,
    Seeded,
    register,
    settle_first_login,
    work_until,
)
from tests.support.kiosk_ui import KioskUnderTest, Participant, TreesMovedIn

CODE = "ABC-00001"
OWN_PIN = "482916"
WRONG_PIN = "135790"


@pytest.fixture
def newcomer(services: KioskServices, sample: SamplePack) -> Seeded:
    """Just handed their access code and temporary PIN by the officer."""
    return register(services.store, programme=sample.programme, access_code=CODE)


@pytest.fixture
def regular(services: KioskServices, newcomer: Seeded, clock: ManualClock) -> Seeded:
    """Has been here before: privacy notice confirmed, own PIN chosen."""
    return settle_first_login(services.store, newcomer, own_pin=OWN_PIN, clock=clock)


def journal_types(services: KioskServices) -> list[str]:
    with services.store.unit() as s:
        return list(s.scalars(select(JournalEvent.type).order_by(JournalEvent.seq)))


def wait_out_cooldown(qtbot: QtBot, kiosk: KioskUnderTest, seconds: int) -> None:
    """The screen counts down (fast ticks here); the core's delay passes on the manual clock."""
    qtbot.waitUntil(lambda: not kiosk.window.login.cooldown_active())
    kiosk.clock.advance(seconds)


def visible_named(root: QWidget, name: str) -> list[QWidget]:
    return [w for w in root.findChildren(QWidget) if w.accessibleName() == name and w.isVisible()]


# -- signing in ---------------------------------------------------------------------------------


def test_a_kiosk_with_nobody_registered_starts_on_welcome_and_refuses_any_code(
    qtbot: QtBot, kiosk: KioskUnderTest, person: Participant
) -> None:
    assert kiosk.window.current_screen() == "welcome"
    person.sign_in("XYZ-00001", "123456")
    assert kiosk.window.current_screen() == "login"
    assert kiosk.window.login.keypad.message().startswith("That access code and PIN do not")
    assert kiosk.services.session.signed_in is None
    qtbot.waitUntil(lambda: not kiosk.window.login.cooldown_active())


def test_five_wrong_pins_lock_the_account_with_growing_delays(
    qtbot: QtBot, kiosk: KioskUnderTest, person: Participant, regular: Seeded
) -> None:
    login = kiosk.window.login
    delays = []
    person.sign_in(regular.access_code, WRONG_PIN)
    for _ in range(4):
        assert login.keypad.message().startswith("That access code and PIN do not match")
        assert login.cooldown_active()
        assert login.keypad.is_locked()
        qtbot.waitUntil(lambda: not login.cooldown_active())
        # Too soon on the core's clock: the PIN is not even checked, and it says how long.
        person.enter_pin(OWN_PIN)
        message = login.keypad.message()
        assert message.startswith("Please wait ")
        delays.append(int(message.split()[2]))
        wait_out_cooldown(qtbot, kiosk, delays[-1])
        person.enter_pin(WRONG_PIN)
    assert delays == sorted(delays)
    assert len(set(delays)) == 4
    assert login.keypad.message() == "This account is locked. Please ask an officer to help you."
    assert not login.cooldown_active()
    # Even the right PIN is refused now.
    person.sign_in(regular.access_code, OWN_PIN)
    assert "locked" in login.keypad.message()
    assert kiosk.services.session.signed_in is None
    assert journal_types(kiosk.services).count("login.failed") == 5


def test_a_refused_pin_choice_says_why_and_asks_again(
    qtbot: QtBot, kiosk: KioskUnderTest, person: Participant, newcomer: Seeded
) -> None:
    person.sign_in(newcomer.access_code, TEMPORARY_PIN)
    person.tap("I understand")
    person.wait_for_screen("choose-pin")
    person.choose_pin("123456")
    assert kiosk.window.current_screen() == "choose-pin"
    assert "in order" in kiosk.screens.choose_pin.keypad.message()
    assert not kiosk.screens.choose_pin.confirming()
    person.choose_pin(OWN_PIN)
    person.wait_for_screen("home")
    assert journal_types(kiosk.services).count("pin.changed") == 1


def test_a_sign_in_that_finishes_after_the_screen_was_cleared_is_undone(
    qtbot: QtBot, kiosk: KioskUnderTest, person: Participant, regular: Seeded
) -> None:
    login = kiosk.window.login
    person.tap("Start")
    person.key_in(regular.access_code, login)
    person.tap("OK", login)
    person.key_in(OWN_PIN, login)
    person.tap("OK", login)
    assert kiosk.runner.busy
    # The kiosk times out while the PIN is still being checked.
    kiosk.presenter.sign_out(LogoutReason.IDLE)
    qtbot.waitUntil(lambda: not kiosk.runner.busy)
    assert kiosk.window.current_screen() == "welcome"
    assert kiosk.services.session.signed_in is None
    assert journal_types(kiosk.services)[-2:] == ["session.started", "session.ended"]


# -- idle ---------------------------------------------------------------------------------------


def idle_settings(kiosk: KioskUnderTest) -> tuple[int, int]:
    with kiosk.services.store.unit() as s:
        settings = repos.settings(s)
    return settings.idle_timeout_seconds, settings.idle_warning_seconds


def test_i_am_still_here_keeps_the_participant_signed_in(
    qtbot: QtBot, kiosk: KioskUnderTest, person: Participant, regular: Seeded
) -> None:
    person.sign_in(regular.access_code, OWN_PIN)
    person.wait_for_screen("home")
    timeout, warning = idle_settings(kiosk)
    overlay = kiosk.window.idle_overlay
    kiosk.clock.advance(timeout - warning + 2)
    qtbot.waitUntil(overlay.isVisible)
    shown = overlay.seconds_left()
    kiosk.clock.advance(1)
    qtbot.waitUntil(lambda: overlay.seconds_left() == shown - 1)
    person.tap("I am still here", overlay)
    qtbot.waitUntil(lambda: not overlay.isVisible())
    kiosk.clock.advance(timeout - warning - 1)
    kiosk.presenter.idle.tick()
    assert not overlay.isVisible()
    assert kiosk.window.current_screen() == "home"
    assert kiosk.services.session.signed_in is not None
    person.tap("take a break")
    person.wait_for_screen("welcome")


def test_idle_on_the_login_screen_forgets_the_code_typed(
    qtbot: QtBot, kiosk: KioskUnderTest, person: Participant
) -> None:
    person.tap("Start")
    person.key_in("ABC-1", kiosk.window.login)
    timeout, _warning = idle_settings(kiosk)
    kiosk.clock.advance(timeout)
    person.wait_for_screen("welcome")
    assert kiosk.window.login.keypad.text() == ""
    assert not kiosk.presenter.idle.running


def test_a_break_from_home_signs_out_and_journals_it(
    qtbot: QtBot, kiosk: KioskUnderTest, person: Participant, regular: Seeded
) -> None:
    person.sign_in(regular.access_code, OWN_PIN)
    person.wait_for_screen("home")
    assert kiosk.screens.home.next_enrolment_id() == regular.enrolment_id
    person.tap("take a break")
    person.wait_for_screen("welcome")
    assert kiosk.services.session.signed_in is None
    assert kiosk.screens.home.next_enrolment_id() is None
    assert journal_types(kiosk.services)[-1] == "session.ended"


# -- accessibility ------------------------------------------------------------------------------


def test_welcome_choices_apply_at_once_and_reset_for_the_next_person(
    qtbot: QtBot, app: QApplication, kiosk: KioskUnderTest, person: Participant, regular: Seeded
) -> None:
    person.tap("text size Extra large")
    person.tap("High contrast")
    person.tap("Read aloud")
    assert app.font().pointSize() == TextSize.EXTRA_LARGE.value
    assert app.palette().window().color() == QColor(HIGH_CONTRAST.window)

    person.sign_in(regular.access_code, OWN_PIN)
    person.wait_for_screen("home")
    person.tap("Continue")
    person.wait_for_screen("step")
    speaker = kiosk.speaker
    with qtbot.waitSignal(speaker.speaking_changed, check_params_cb=lambda on: on):
        person.tap("read aloud")
    assert speaker.engine().state() is not QTextToSpeech.State.Error

    person.tap("take a break")
    person.wait_for_screen("welcome")
    qtbot.waitUntil(lambda: not speaker.is_speaking())
    assert app.font().pointSize() == TextSize.STANDARD.value
    assert app.palette().window().color() == QColor(CALM.window)
    assert kiosk.window.welcome.accessibility().read_aloud is False


def test_read_aloud_is_offered_only_when_chosen(
    qtbot: QtBot, kiosk: KioskUnderTest, person: Participant, regular: Seeded
) -> None:
    person.sign_in(regular.access_code, OWN_PIN)
    person.tap("Continue")
    person.wait_for_screen("step")
    qtbot.waitUntil(kiosk.screens.step.isVisible)
    assert visible_named(kiosk.screens.step, "read aloud") == []
    assert visible_named(kiosk.screens.step, "take a break") != []
    person.tap("take a break")
    person.wait_for_screen("welcome")


def test_every_control_on_every_screen_has_an_accessible_name(kiosk: KioskUnderTest) -> None:
    window = kiosk.window
    assert set(window.screen_names()) == {
        "welcome",
        "login",
        "privacy",
        "choose-pin",
        "home",
        "step",
        "completion",
    }
    nameless = [
        f"{name}: {type(widget).__name__}"
        for name in window.screen_names()
        for widget in window.screen_widget(name).findChildren(QWidget)
        # A scroll bar belongs to its scroll area, which carries the name.
        if isinstance(widget, INTERACTIVE)
        and not isinstance(widget, QScrollBar)
        and not widget.accessibleName()
    ]
    assert nameless == []


def test_nothing_typed_survives_a_sign_out(
    qtbot: QtBot, kiosk: KioskUnderTest, person: Participant, newcomer: Seeded
) -> None:
    person.sign_in(newcomer.access_code, TEMPORARY_PIN)
    person.tap("I understand")
    person.wait_for_screen("choose-pin")
    person.key_in("482", kiosk.screens.choose_pin)
    kiosk.presenter.sign_out(LogoutReason.IDLE)
    assert kiosk.window.current_screen() == "welcome"
    typed = [w.text() for w in kiosk.window.findChildren(QLineEdit) if w.text()]
    typed += [w.toPlainText() for w in kiosk.window.findChildren(QPlainTextEdit)]
    assert [t for t in typed if t] == []


@pytest.mark.qt_log_ignore(
    r"Couldn't (load|resolve) pipewire",
    r"pa_context_connect",
    r"No audio device detected",
    r"No RHI backend",
    r"This plugin does not support (propagateSizeHints|raise)\(\)",
)
def test_playing_media_counts_as_being_there(
    qtbot: QtBot, kiosk: KioskUnderTest, person: Participant, regular: Seeded, sample: SamplePack
) -> None:
    programme = sample.programme
    media = next(
        s for s in programme.all_steps() if isinstance(s, model.AudioStep | model.VideoStep)
    )
    work_until(kiosk.services.store, regular, programme, step_id=media.id, clock=kiosk.clock)
    person.sign_in(regular.access_code, OWN_PIN)
    person.tap("Continue")
    person.wait_for_screen("step")
    view = kiosk.presenter.player.view()
    assert isinstance(view, MediaView)
    qtbot.waitUntil(lambda: person.button("play", view).isEnabled(), timeout=10_000)
    with qtbot.assertNotEmitted(kiosk.presenter.player.attention, wait=50):
        pass
    with qtbot.waitSignal(kiosk.presenter.player.attention, timeout=5000):
        person.tap("play", view)
    person.tap("take a break")
    person.wait_for_screen("welcome")


def test_every_step_view_is_made_inside_the_step_frame(
    qtbot: QtBot,
    app: QApplication,
    kiosk: KioskUnderTest,
    person: Participant,
    regular: Seeded,
    sample: SamplePack,
) -> None:
    """Not built apart and then moved in: a finished tree of widgets moved to a new parent
    has its style and fonts worked out again, and steps showed slower after Next."""
    steps = list(sample.programme.all_steps())
    work_until(
        kiosk.services.store,
        regular,
        sample.programme,
        step_id=steps[-1].id,
        back_to=steps[0].id,
        clock=kiosk.clock,
    )
    person.sign_in(regular.access_code, OWN_PIN)
    person.tap("Continue")
    person.wait_for_screen("step")
    frame = kiosk.screens.step
    watch = TreesMovedIn(into=frame)
    app.installEventFilter(watch)
    try:
        kinds = set()
        for _step in steps[:-1]:
            kiosk.clock.advance(60)
            person.tap("next")
            view = kiosk.presenter.player.view()
            assert view is not None
            assert view.parentWidget() is frame
            kinds.add(type(view).__name__)
    finally:
        app.removeEventFilter(watch)
    assert {"ReadingView", "QuizView", "MediaView", "TextEntryView", "PledgeView"} <= kinds
    assert watch.moved_in == []
