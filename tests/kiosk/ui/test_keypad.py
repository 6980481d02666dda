"""Keypad: touch keys, physical keys, masked PIN, locking, accessible names."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from kiosk_app.ui.viewmodels import KeypadMode
from kiosk_app.ui.widgets.keypad import Keypad
from tests.kiosk.ui.conftest import button_named


@pytest.fixture
def keypad(qtbot: QtBot) -> Keypad:
    pad = Keypad()
    qtbot.addWidget(pad)
    pad.show()
    qtbot.waitExposed(pad)
    return pad


def key(pad: Keypad, accessible_name: str) -> QPushButton:
    return button_named(pad, accessible_name)


def entry(pad: Keypad) -> QLineEdit:
    edit = pad.findChild(QLineEdit)
    assert edit is not None
    return edit


def tap(qtbot: QtBot, pad: Keypad, *names: str) -> None:
    for name in names:
        QTest.mouseClick(key(pad, name), Qt.MouseButton.LeftButton)


def test_every_digit_key_has_a_spoken_name(keypad: Keypad) -> None:
    for digit in "0123456789":
        assert key(keypad, f"digit {digit}").text() == digit


def test_tapping_digits_then_ok_submits(qtbot: QtBot, keypad: Keypad) -> None:
    tap(qtbot, keypad, "digit 4", "digit 2")
    with qtbot.waitSignal(keypad.submitted) as blocker:
        tap(qtbot, keypad, "OK")
    assert blocker.args == ["42"]


def test_delete_removes_the_last_character(qtbot: QtBot, keypad: Keypad) -> None:
    tap(qtbot, keypad, "digit 1", "digit 2", "delete")
    assert keypad.text() == "1"


def test_letters_page_types_letters_and_dash(qtbot: QtBot, keypad: Keypad) -> None:
    tap(qtbot, keypad, "show letters", "letter A", "letter B", "letter C", "dash")
    tap(qtbot, keypad, "show numbers", "digit 1")
    assert keypad.text() == "ABC-1"


def test_physical_keyboard_types_uppercase_code_and_enter_submits(
    qtbot: QtBot, keypad: Keypad
) -> None:
    QTest.keyClicks(entry(keypad), "abc-12345")
    QTest.keyClick(entry(keypad), Qt.Key.Key_Backspace)
    with qtbot.waitSignal(keypad.submitted) as blocker:
        QTest.keyClick(entry(keypad), Qt.Key.Key_Return)
    assert blocker.args == ["ABC-1234"]


def test_keyboard_works_while_a_key_button_has_focus(qtbot: QtBot, keypad: Keypad) -> None:
    five = key(keypad, "digit 5")
    QTest.keyClicks(five, "7a")
    QTest.keyClick(five, Qt.Key.Key_Return)  # Enter presses the focused key
    assert keypad.text() == "7A5"
    QTest.keyClick(five, Qt.Key.Key_Backspace)
    assert keypad.text() == "7A"


def test_pin_mode_masks_and_accepts_digits_only(qtbot: QtBot, keypad: Keypad) -> None:
    keypad.set_mode(KeypadMode.PIN, max_length=6)
    QTest.keyClicks(entry(keypad), "12ab345678")
    assert keypad.text() == "123456"
    assert entry(keypad).echoMode() is QLineEdit.EchoMode.Password
    assert entry(keypad).accessibleName() == "PIN"


def test_show_pin_reveals_the_digits(qtbot: QtBot, keypad: Keypad) -> None:
    keypad.set_mode(KeypadMode.PIN)
    tap(qtbot, keypad, "show PIN")
    assert entry(keypad).echoMode() is QLineEdit.EchoMode.Normal
    tap(qtbot, keypad, "hide PIN")
    assert entry(keypad).echoMode() is QLineEdit.EchoMode.Password


def test_empty_entry_cannot_be_submitted(qtbot: QtBot, keypad: Keypad) -> None:
    assert not key(keypad, "OK").isEnabled()
    with qtbot.assertNotEmitted(keypad.submitted):
        QTest.keyClick(entry(keypad), Qt.Key.Key_Return)


def test_locked_keypad_ignores_keys_and_touch(qtbot: QtBot, keypad: Keypad) -> None:
    keypad.set_locked(True)
    tap(qtbot, keypad, "digit 3")
    QTest.keyClicks(keypad, "9")
    assert keypad.text() == ""
    assert keypad.is_locked()
    keypad.set_locked(False)
    tap(qtbot, keypad, "digit 3")
    assert keypad.text() == "3"


def test_message_shows_and_clears(keypad: Keypad) -> None:
    keypad.set_message("That PIN is not right. Try again in 4 seconds.")
    assert keypad.message() == "That PIN is not right. Try again in 4 seconds."
    keypad.clear()
    assert keypad.message() == ""
