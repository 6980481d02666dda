"""Screens after login, used as a person would: privacy notice, new PIN, Home, completion."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QApplication,
    QLabel,
    QLineEdit,
    QProgressBar,
    QTextBrowser,
    QWidget,
)
from pytestqt.qtbot import QtBot

from kiosk_app.core.home import EnrolmentSummary, ModuleSummary
from kiosk_app.ui.screens.choose_pin import ChoosePinScreen
from kiosk_app.ui.screens.completion import CompletionContent, CompletionScreen
from kiosk_app.ui.screens.home import HomeScreen, ModuleProgress, ProgrammeCard
from kiosk_app.ui.screens.privacy import PrivacyScreen
from kiosk_app.ui.theme import MIN_TOUCH_TARGET_PX, apply_theme
from kiosk_app.ui.viewmodels import AccessibilityOptions
from tests.kiosk.ui.conftest import button_named


def shown(qtbot: QtBot, screen: QWidget) -> None:
    """Show the screen with keyboard focus, as the kiosk window does (`show_screen`)."""
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activateWindow()
    qtbot.waitUntil(screen.isActiveWindow)
    screen.setFocus(Qt.FocusReason.OtherFocusReason)


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def visible_texts(root: QWidget) -> list[str]:
    texts = [w.text() for w in root.findChildren(QLabel) if w.isVisible() and w.text()]
    texts += [w.toPlainText() for w in root.findChildren(QTextBrowser) if w.isVisible()]
    return texts + [b.format() for b in root.findChildren(QProgressBar) if b.isVisible()]


def tap(qtbot: QtBot, root: QWidget, name: str) -> None:
    button = button_named(root, name)
    assert button.isVisible(), f"{name!r} is not on screen"
    assert button.isEnabled(), f"{name!r} is not enabled"
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


# -- privacy notice -----------------------------------------------------------------------------


def test_privacy_notice_says_what_is_recorded_who_sees_it_and_the_deadline(qtbot: QtBot) -> None:
    screen = PrivacyScreen()
    shown(qtbot, screen)
    text = screen.plain_text()
    for words in (
        "What we record",
        "your quiz answers, and what you write",
        "Who sees it",
        "The police officers who deal with your case",
        "Other people using this kiosk cannot see your work",
        "If you do not finish in time",
        "the police can take your case to court",
    ):
        assert words in text


def test_privacy_notice_names_the_due_date(qtbot: QtBot) -> None:
    screen = PrivacyScreen()
    shown(qtbot, screen)
    screen.set_due_date(date(2030, 3, 12))
    assert "You agreed to finish this programme by" in screen.plain_text()
    assert "2030" in screen.plain_text()
    assert "March" in screen.plain_text()


def test_privacy_notice_is_confirmed_by_touch(qtbot: QtBot) -> None:
    screen = PrivacyScreen()
    shown(qtbot, screen)
    with qtbot.waitSignal(screen.confirmed):
        tap(qtbot, screen, "I understand")


def test_privacy_notice_is_confirmed_by_keyboard(qtbot: QtBot) -> None:
    screen = PrivacyScreen()
    shown(qtbot, screen)
    assert button_named(screen, "I understand").hasFocus()
    with qtbot.waitSignal(screen.confirmed):
        QTest.keyClick(focused(), Qt.Key.Key_Return)


# -- choosing a PIN -----------------------------------------------------------------------------


def key_in(qtbot: QtBot, screen: ChoosePinScreen, digits: str) -> None:
    for digit in digits:
        tap(qtbot, screen, f"digit {digit}")
    tap(qtbot, screen, "OK")


def prompt(screen: ChoosePinScreen) -> str:
    return next(t for t in visible_texts(screen) if "PIN" in t)


def test_a_pin_is_typed_twice_on_the_keypad(qtbot: QtBot) -> None:
    screen = ChoosePinScreen()
    shown(qtbot, screen)
    assert prompt(screen) == "Choose your own PIN of 6 numbers"
    assert "Step 1 of 2" in visible_texts(screen)
    key_in(qtbot, screen, "482916")
    assert screen.confirming()
    assert prompt(screen) == "Type the same PIN again"
    assert "Step 2 of 2" in visible_texts(screen)
    assert screen.keypad.text() == ""
    with qtbot.waitSignal(screen.pin_chosen) as chosen:
        key_in(qtbot, screen, "482916")
    assert chosen.args == ["482916", "482916"]
    assert screen.keypad.text() == ""


def test_a_pin_is_typed_on_a_physical_keyboard(qtbot: QtBot) -> None:
    screen = ChoosePinScreen()
    shown(qtbot, screen)
    entry = focused()
    assert isinstance(entry, QLineEdit)
    assert entry.echoMode() is QLineEdit.EchoMode.Password  # nobody behind reads it
    QTest.keyClicks(entry, "48a2916")  # letters are not taken
    QTest.keyClick(entry, Qt.Key.Key_Return)
    QTest.keyClicks(focused(), "482916")
    with qtbot.waitSignal(screen.pin_chosen) as chosen:
        QTest.keyClick(focused(), Qt.Key.Key_Return)
    assert chosen.args == ["482916", "482916"]


def test_a_refused_pin_starts_again_and_says_why(qtbot: QtBot) -> None:
    screen = ChoosePinScreen()
    shown(qtbot, screen)
    key_in(qtbot, screen, "123456")
    key_in(qtbot, screen, "123456")
    screen.show_problem("Your PIN cannot be numbers in order, like 123456 or 654321.")
    assert not screen.confirming()
    assert prompt(screen) == "Choose your own PIN of 6 numbers"
    assert screen.keypad.message() == "Your PIN cannot be numbers in order, like 123456 or 654321."


def test_start_again_forgets_the_first_pin(qtbot: QtBot) -> None:
    screen = ChoosePinScreen()
    shown(qtbot, screen)
    assert not button_named(screen, "start again").isVisible()
    key_in(qtbot, screen, "482916")
    tap(qtbot, screen, "start again")
    assert not screen.confirming()
    key_in(qtbot, screen, "192837")
    with qtbot.waitSignal(screen.pin_chosen) as chosen:
        key_in(qtbot, screen, "192837")
    assert chosen.args == ["192837", "192837"]


# -- Home ---------------------------------------------------------------------------------------


def card(
    enrolment_id: str = "e1",
    *,
    days_left: int = 12,
    complete: bool = False,
    available: bool = True,
    reference: str | None = None,
) -> ProgrammeCard:
    return ProgrammeCard(
        enrolment_id=enrolment_id,
        title=f"Programme {enrolment_id}",
        available=available,
        percent=100 if complete else 40,
        complete=complete,
        days_left=days_left,
        modules=(
            ModuleProgress("Getting started", 100, True),
            ModuleProgress("Your choices", 30, False),
        ),
        completion_reference=reference,
    )


@pytest.fixture
def home(qtbot: QtBot) -> HomeScreen:
    screen = HomeScreen()
    shown(qtbot, screen)
    return screen


def test_home_shows_progress_per_module_and_the_time_left(home: HomeScreen) -> None:
    home.set_programmes([card()])
    texts = visible_texts(home)
    for expected in ("Programme e1", "12 days left", "Getting started", "Done ✓", "30%"):
        assert expected in texts
    bars = {b.accessibleName(): b.value() for b in home.findChildren(QProgressBar)}
    assert bars == {"Getting started": 100, "Your choices": 30}


@pytest.mark.parametrize(
    ("days_left", "complete", "words"),
    [
        (12, False, "12 days left"),
        (1, False, "1 day left"),
        (0, False, "Due today"),
        (-1, False, "1 day past your due date. Please talk to an officer."),
        (-3, False, "3 days past your due date. Please talk to an officer."),
        (-3, True, "Finished"),
    ],
)
def test_the_due_date_in_words(
    home: HomeScreen, days_left: int, complete: bool, words: str
) -> None:
    home.set_programmes([card(days_left=days_left, complete=complete)])
    assert words in visible_texts(home)


def test_continue_resumes_the_first_unfinished_programme_on_this_kiosk(
    qtbot: QtBot, home: HomeScreen
) -> None:
    home.set_programmes(
        [
            card("done", complete=True, reference="ALC-7K2M-9QX4"),
            card("elsewhere", available=False),
            card("next"),
        ]
    )
    assert "Your completion reference: ALC-7K2M-9QX4" in visible_texts(home)
    assert "This programme is not on this kiosk yet. Please ask an officer." in visible_texts(home)
    with qtbot.waitSignal(home.continue_requested) as chosen:
        tap(qtbot, home, "Continue")
    assert chosen.args == ["next"]


def test_continue_by_keyboard(qtbot: QtBot, home: HomeScreen) -> None:
    home.set_programmes([card()])
    home.setFocus()
    assert button_named(home, "Continue").hasFocus()
    with qtbot.waitSignal(home.continue_requested):
        QTest.keyClick(focused(), Qt.Key.Key_Return)


def test_nothing_left_to_do(qtbot: QtBot, home: HomeScreen) -> None:
    home.set_programmes([card(complete=True, reference="ALC-7K2M-9QX4")])
    assert not button_named(home, "Continue").isEnabled()
    assert "You have finished. Well done!" in visible_texts(home)
    home.set_programmes([])
    assert "You have nothing to do here right now." in visible_texts(home)


def test_clearing_home_leaves_nothing_of_the_last_person(home: HomeScreen) -> None:
    home.set_programmes([card(complete=True, reference="ALC-7K2M-9QX4")])
    home.set_programmes([])
    shown_now = " ".join(visible_texts(home))
    assert "Programme" not in shown_now
    assert "ALC-7K2M-9QX4" not in shown_now
    assert home.findChildren(QProgressBar) == []


def test_take_a_break_from_home(qtbot: QtBot, home: HomeScreen) -> None:
    with qtbot.waitSignal(home.break_requested):
        tap(qtbot, home, "take a break")


def test_a_card_from_the_cores_summary() -> None:
    summary = EnrolmentSummary(
        enrolment_id="e9",
        programme_id="alcohol-and-you",
        title="Alcohol and you",
        available=True,
        percent=50,
        complete=False,
        modules=(ModuleSummary("m1", "Welcome", 100, True),),
        due_date=date(2030, 3, 24),
        due_text="12 days left",
        overdue=False,
        completion_reference=None,
    )
    made = ProgrammeCard.from_summary(summary, today=date(2030, 3, 12))
    assert made.days_left == 12
    assert made.modules == (ModuleProgress("Welcome", 100, True),)
    assert made.title == "Alcohol and you"


# -- completion ---------------------------------------------------------------------------------


def test_completion_shows_the_reference_large_for_the_officer(qtbot: QtBot) -> None:
    screen = CompletionScreen()
    shown(qtbot, screen)
    screen.set_completion(CompletionContent("Alcohol and you", "ALC-7K2M-9QX4", "12 March 2030"))
    texts = visible_texts(screen)
    assert "You completed Alcohol and you on 12 March 2030." in texts
    assert "Show this reference to an officer:" in texts
    assert screen.reference_text() == "A L C - 7 K 2 M - 9 Q X 4"
    (reference,) = [w for w in screen.findChildren(QLabel) if w.text() == screen.reference_text()]
    assert reference.accessibleName() == "completion reference ALC-7K2M-9QX4"
    assert reference.property("role") == "big-number"
    assert screen.reference_text() in screen.plain_text()


def test_finish_by_touch_and_by_keyboard(qtbot: QtBot) -> None:
    screen = CompletionScreen()
    shown(qtbot, screen)
    screen.set_completion(CompletionContent("Alcohol and you", "ALC-7K2M-9QX4", "12 March 2030"))
    with qtbot.waitSignal(screen.done_requested):
        tap(qtbot, screen, "Finish")
    assert button_named(screen, "Finish").hasFocus()
    with qtbot.waitSignal(screen.done_requested):
        QTest.keyClick(focused(), Qt.Key.Key_Return)


def test_cleared_completion_shows_no_reference(qtbot: QtBot) -> None:
    screen = CompletionScreen()
    shown(qtbot, screen)
    screen.set_completion(CompletionContent("Alcohol and you", "ALC-7K2M-9QX4", "12 March 2030"))
    screen.set_completion(CompletionContent("", "", ""))
    shown_now = " ".join(visible_texts(screen))
    assert "ALC" not in shown_now
    assert "Alcohol" not in shown_now


# -- for everyone -------------------------------------------------------------------------------

INTERACTIVE = (QAbstractButton, QLineEdit, QTextBrowser, QAbstractSlider)
SCREENS: list[tuple[str, Callable[[], QWidget]]] = [
    ("privacy", PrivacyScreen),
    ("choose-pin", ChoosePinScreen),
    ("home", HomeScreen),
    ("completion", CompletionScreen),
]


@pytest.mark.parametrize(("kind", "factory"), SCREENS, ids=[k for k, _ in SCREENS])
def test_every_control_has_an_accessible_name(
    qtbot: QtBot, kind: str, factory: Callable[[], QWidget]
) -> None:
    screen = factory()
    if isinstance(screen, HomeScreen):
        screen.set_programmes([card()])
    shown(qtbot, screen)
    unnamed = [
        type(w).__name__
        for w in screen.findChildren(QWidget)
        if isinstance(w, INTERACTIVE) and not w.accessibleName()
    ]
    assert unnamed == []


@pytest.mark.parametrize(("kind", "factory"), SCREENS, ids=[k for k, _ in SCREENS])
def test_buttons_are_big_enough_to_touch(
    qtbot: QtBot, app: QApplication, kind: str, factory: Callable[[], QWidget]
) -> None:
    screen = factory()
    if isinstance(screen, HomeScreen):
        screen.set_programmes([card()])
    apply_theme(app, AccessibilityOptions())
    shown(qtbot, screen)
    small = [
        f"{b.accessibleName()} {b.height()}"
        for b in screen.findChildren(QAbstractButton)
        if b.isVisible() and b.height() < MIN_TOUCH_TARGET_PX
    ]
    assert small == []
