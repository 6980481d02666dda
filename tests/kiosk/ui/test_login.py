"""Login screen: code then PIN, errors, a visible cooldown that locks the keypad."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QLineEdit
from pytestqt.qtbot import QtBot

from kiosk_app.ui.screens.login import LoginScreen
from tests.kiosk.ui.conftest import FAST_TICK_MS, button_named


@pytest.fixture
def login(qtbot: QtBot) -> LoginScreen:
    screen = LoginScreen(tick_ms=FAST_TICK_MS)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitExposed(screen)
    return screen


def entry(screen: LoginScreen) -> QLineEdit:
    edit = screen.findChild(QLineEdit)
    assert edit is not None
    return edit


def type_and_enter(qtbot: QtBot, screen: LoginScreen, text: str) -> None:
    edit = entry(screen)
    QTest.keyClicks(edit, text)
    QTest.keyClick(edit, Qt.Key.Key_Return)


def visible_texts(screen: LoginScreen) -> list[str]:
    return [label.text() for label in screen.findChildren(QLabel) if label.isVisible()]


def test_code_then_pin_requests_login(qtbot: QtBot, login: LoginScreen) -> None:
    assert "Type your access code" in visible_texts(login)
    type_and_enter(qtbot, login, "ABC-12345")
    assert login.asking_for_pin()
    assert "Type your PIN" in visible_texts(login)
    with qtbot.waitSignal(login.login_requested) as blocker:
        type_and_enter(qtbot, login, "123456")
    assert blocker.args == ["ABC-12345", "123456"]
    assert login.keypad.text() == ""


def test_back_from_pin_returns_to_the_code_with_it_kept(qtbot: QtBot, login: LoginScreen) -> None:
    type_and_enter(qtbot, login, "ABC-12345")
    QTest.mouseClick(button_named(login, "back"), Qt.MouseButton.LeftButton)
    assert not login.asking_for_pin()
    assert login.keypad.text() == "ABC-12345"


def test_back_from_the_code_asks_to_leave(qtbot: QtBot, login: LoginScreen) -> None:
    with qtbot.waitSignal(login.back_requested):
        QTest.mouseClick(button_named(login, "back"), Qt.MouseButton.LeftButton)


def test_error_is_shown_in_plain_words(qtbot: QtBot, login: LoginScreen) -> None:
    type_and_enter(qtbot, login, "ABC-12345")
    login.show_error("That PIN is not right. Try again in 4 seconds.")
    assert "That PIN is not right. Try again in 4 seconds." in visible_texts(login)


def test_cooldown_counts_down_visibly_and_locks_the_keypad(
    qtbot: QtBot, login: LoginScreen
) -> None:
    type_and_enter(qtbot, login, "ABC-12345")
    login.start_cooldown(3)
    assert "You can try again in 3 seconds." in visible_texts(login)
    assert login.keypad.is_locked()
    with qtbot.waitSignal(login.cooldown_finished):
        pass
    assert not login.keypad.is_locked()
    assert not any("try again" in text for text in visible_texts(login))
    QTest.keyClicks(entry(login), "9")
    assert login.keypad.text() == "9"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(1, "You can try again in 1 second."), (4, "You can try again in 4 seconds.")],
)
def test_countdown_speaks_plain_english(login: LoginScreen, seconds: int, text: str) -> None:
    login.start_cooldown(seconds)
    assert text in visible_texts(login)
    login.clear()


def test_zero_second_cooldown_does_not_lock(login: LoginScreen) -> None:
    login.start_cooldown(0)
    assert not login.cooldown_active()
    assert not login.keypad.is_locked()


def test_clear_forgets_everything_and_stops_the_cooldown(qtbot: QtBot, login: LoginScreen) -> None:
    type_and_enter(qtbot, login, "ABC-12345")
    QTest.keyClicks(entry(login), "12")
    login.show_error("That PIN is not right.")
    login.start_cooldown(30)
    login.clear()
    assert not login.cooldown_active()
    assert not login.asking_for_pin()
    assert login.keypad.text() == ""
    assert login.keypad.message() == ""
    assert "Type your access code" in visible_texts(login)
