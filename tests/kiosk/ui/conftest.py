"""Fixtures for the kiosk UI tests: a clean app theme, a kiosk window, no dangling timers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtGui import QPalette

# Imported at collection: loading QtMultimedia warns about a missing PipeWire, which must not
# be blamed on the first test that plays sound.
from PySide6.QtMultimedia import QMediaDevices  # noqa: F401
from PySide6.QtWidgets import QApplication, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from kiosk_app.ui.i18n import Translations
from kiosk_app.ui.kiosk_window import KioskWindow
from kiosk_app.ui.screens.login import LoginScreen

_HERE = Path(__file__).parent
# The offscreen platform warns that it cannot raise windows or pass on size hints; a real
# display (see test_screenshots.py) supports both.
_OFFSCREEN_NOISE = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise)\(\)",
    # Nor has it a GPU: video frames are converted on the CPU instead (and still shown).
    r"No RHI backend\. Using CPU conversion",
)

FAST_TICK_MS = 10


def button_named(root: QWidget, accessible_name: str) -> QPushButton:
    """Find a button the way a screen-reader user would: by its accessible name."""
    found = [b for b in root.findChildren(QPushButton) if b.accessibleName() == accessible_name]
    assert len(found) == 1, f"expected one button called {accessible_name!r}, found {len(found)}"
    return found[0]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(_OFFSCREEN_NOISE)


def _our_running_timers() -> list[str]:
    running = []
    for widget in QApplication.allWidgets():
        for timer in widget.findChildren(QTimer):
            parent = timer.parent()
            if timer.isActive() and type(parent).__module__.startswith("kiosk_app."):
                running.append(f"{type(parent).__name__} timer ({timer.interval()} ms)")
    return running


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a UI test that leaves one of our QTimers, a Python thread or a pool task running.

    Checked right after the test body, while its fixtures (and their widgets) still exist.
    """
    if _HERE not in item.path.parents:
        return (yield)
    threads_before = set(threading.enumerate())
    result = yield
    problems = _our_running_timers()
    problems += [f"thread {t.name}" for t in threading.enumerate() if t not in threads_before]
    if not QThreadPool.globalInstance().waitForDone(1000):
        problems.append("QThreadPool tasks still running")
    if problems:
        pytest.fail("left running after the test: " + ", ".join(problems), pytrace=False)
    return result


@pytest.fixture(scope="session", autouse=True)
def null_audio_sink(null_audio_sink: str) -> str:
    """Every UI test plays against the private PulseAudio server (tests/conftest.py)."""
    return null_audio_sink


@pytest.fixture
def app(qapp: QApplication) -> Iterator[QApplication]:
    """The application, with theme and stylesheet put back after the test."""
    style, sheet, palette, font = (
        qapp.style().name(),
        qapp.styleSheet(),
        qapp.palette(),
        qapp.font(),
    )
    yield qapp
    qapp.setStyleSheet(sheet)
    qapp.setPalette(QPalette(palette))
    qapp.setFont(font)
    qapp.setStyle(style)


@pytest.fixture(autouse=True)
def english(qapp: QApplication) -> Iterator[Translations]:
    """The kiosk in English, as the app starts (English plural forms installed)."""
    translations = Translations(qapp)
    assert translations.switch_to("en")
    yield translations
    translations.remove()


@pytest.fixture
def window(qtbot: QtBot, app: QApplication) -> KioskWindow:
    """A kiosk window whose login cooldown ticks every 10 ms; allowed to close at teardown."""
    shown = KioskWindow(app, login=LoginScreen(tick_ms=FAST_TICK_MS))
    qtbot.addWidget(shown, before_close_func=lambda w: shown.allow_exit())
    shown.resize(1280, 800)
    return shown


@pytest.fixture
def shown_window(qtbot: QtBot, window: KioskWindow) -> KioskWindow:
    """The kiosk window shown and active, so keyboard focus works."""
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    return window


# The seeded-kiosk fixtures shared by the window-level tests.
from tests.kiosk.ui.fixtures import clock, kiosk, person, sample, services  # noqa: E402, F401
