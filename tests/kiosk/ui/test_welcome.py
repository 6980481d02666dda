"""Welcome screen: Start, language choice, accessibility choices, reset for the next person."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from kiosk_app.ui.screens.welcome import WelcomeScreen
from kiosk_app.ui.viewmodels import AccessibilityOptions, LanguageOption, TextSize
from tests.kiosk.ui.conftest import button_named

LANGUAGES = [
    LanguageOption("en", "English"),
    LanguageOption("pl", "Polski"),
    LanguageOption("ro", "Română"),
]


@pytest.fixture
def welcome(qtbot: QtBot) -> WelcomeScreen:
    screen = WelcomeScreen()
    qtbot.addWidget(screen)
    screen.set_languages(LANGUAGES)
    return screen


def click(qtbot: QtBot, screen: WelcomeScreen, name: str) -> None:
    QTest.mouseClick(button_named(screen, name), Qt.MouseButton.LeftButton)


def test_start_asks_to_start(qtbot: QtBot, welcome: WelcomeScreen) -> None:
    with qtbot.waitSignal(welcome.start_requested):
        click(qtbot, welcome, "Start")


def test_languages_come_from_the_setter(qtbot: QtBot, welcome: WelcomeScreen) -> None:
    with qtbot.waitSignal(welcome.language_chosen) as blocker:
        click(qtbot, welcome, "Polski")
    assert blocker.args == ["pl"]
    assert welcome.language() == "pl"
    assert button_named(welcome, "Polski").isChecked()
    assert not button_named(welcome, "English").isChecked()


@pytest.mark.parametrize(
    ("button", "expected"),
    [
        ("text size Large", AccessibilityOptions(text_size=TextSize.LARGE)),
        ("text size Extra large", AccessibilityOptions(text_size=TextSize.EXTRA_LARGE)),
        ("High contrast", AccessibilityOptions(high_contrast=True)),
        ("Read aloud", AccessibilityOptions(read_aloud=True)),
    ],
)
def test_each_choice_is_announced_at_once(
    qtbot: QtBot, welcome: WelcomeScreen, button: str, expected: AccessibilityOptions
) -> None:
    with qtbot.waitSignal(welcome.accessibility_changed) as blocker:
        click(qtbot, welcome, button)
    assert blocker.args == [expected]


def test_toggle_says_whether_it_is_on(qtbot: QtBot, welcome: WelcomeScreen) -> None:
    contrast = button_named(welcome, "High contrast")
    assert contrast.text() == "High contrast: Off"
    click(qtbot, welcome, "High contrast")
    assert contrast.text() == "High contrast: On"


def test_set_accessibility_shows_without_announcing(qtbot: QtBot, welcome: WelcomeScreen) -> None:
    options = AccessibilityOptions(TextSize.LARGE, high_contrast=True, read_aloud=True)
    with qtbot.assertNotEmitted(welcome.accessibility_changed):
        welcome.set_accessibility(options)
    assert button_named(welcome, "text size Large").isChecked()
    assert button_named(welcome, "Read aloud").isChecked()


def test_reset_forgets_the_last_person(qtbot: QtBot, welcome: WelcomeScreen) -> None:
    click(qtbot, welcome, "Polski")
    click(qtbot, welcome, "text size Extra large")
    click(qtbot, welcome, "High contrast")
    with (
        qtbot.waitSignal(welcome.accessibility_changed) as options,
        qtbot.waitSignal(welcome.language_chosen) as language,
    ):
        welcome.reset()
    assert options.args == [AccessibilityOptions()]
    assert language.args == ["en"]
    assert button_named(welcome, "English").isChecked()
    assert button_named(welcome, "text size Standard").isChecked()
    assert not button_named(welcome, "High contrast").isChecked()
