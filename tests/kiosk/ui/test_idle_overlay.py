"""Idle overlay: covers the window, counts down as told, any touch/click/key says "still here"."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QPointingDevice
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from kiosk_app.ui.widgets.idle_overlay import IdleOverlay


@pytest.fixture
def host(qtbot: QtBot) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.resize(800, 600)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def overlay(host: QWidget) -> IdleOverlay:
    return IdleOverlay(host)


def texts(overlay: IdleOverlay) -> list[str]:
    return [label.text() for label in overlay.findChildren(QLabel)]


def test_hidden_until_the_presenter_counts_down(overlay: IdleOverlay) -> None:
    assert not overlay.isVisible()
    overlay.show_countdown(20)
    assert overlay.isVisible()
    assert "Are you still there?" in texts(overlay)
    assert "Touch the screen to carry on." in texts(overlay)
    assert "Logging out in 20 seconds." in texts(overlay)


def test_countdown_updates_in_plain_english(overlay: IdleOverlay) -> None:
    overlay.show_countdown(20)
    overlay.show_countdown(1)
    assert "Logging out in 1 second." in texts(overlay)
    assert overlay.seconds_left() == 1


def test_covers_the_whole_parent_even_after_resize(host: QWidget, overlay: IdleOverlay) -> None:
    overlay.show_countdown(20)
    host.resize(1024, 700)
    assert overlay.geometry() == host.rect()


def _click(qtbot: QtBot, overlay: IdleOverlay) -> None:
    QTest.mouseClick(
        overlay, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(10, 10)
    )


def _key(qtbot: QtBot, overlay: IdleOverlay) -> None:
    QTest.keyClick(overlay, Qt.Key.Key_A)


def _touch(qtbot: QtBot, overlay: IdleOverlay) -> None:
    device = QPointingDevice(
        "test touchscreen",
        1,
        QPointingDevice.DeviceType.TouchScreen,
        QPointingDevice.PointerType.Finger,
        QPointingDevice.Capability.Position,
        1,
        0,
    )
    QTest.touchEvent(overlay, device).press(0, QPoint(20, 20)).commit()
    QTest.touchEvent(overlay, device).release(0, QPoint(20, 20)).commit()


@pytest.mark.parametrize("answer", [_click, _key, _touch])
def test_any_touch_click_or_key_means_still_here(
    qtbot: QtBot, overlay: IdleOverlay, answer: Callable[[QtBot, IdleOverlay], None]
) -> None:
    overlay.show_countdown(20)
    with qtbot.waitSignal(overlay.still_here):
        answer(qtbot, overlay)


def test_no_signal_while_hidden(qtbot: QtBot, overlay: IdleOverlay) -> None:
    with qtbot.assertNotEmitted(overlay.still_here):
        _click(qtbot, overlay)
    overlay.show_countdown(5)
    overlay.dismiss()
    assert not overlay.isVisible()
