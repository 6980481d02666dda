"""A participant at the real kiosk window: taps keys and buttons by their accessible names."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from kiosk_app.app import KioskServices
from kiosk_app.core.clock import ManualClock
from kiosk_app.ui.i18n import Translations
from kiosk_app.ui.kiosk_window import KioskWindow, ParticipantScreens, add_participant_screens
from kiosk_app.ui.presenter import KioskPresenter
from kiosk_app.ui.screens.login import LoginScreen
from kiosk_app.ui.speech import Speaker
from kiosk_app.ui.tasks import TaskRunner

FAST_TICK_MS = 10


class TreesMovedIn(QObject):
    """Names every widget moved to a new parent with widgets of its own (made elsewhere,
    then moved in) while it watches, as "Widget into Parent": moved into `into`, or with no
    `into`, where the widget or its new parent is one of the kiosk's own classes.

    A finished tree of widgets moved into the styled window has its stylesheet style, fonts
    and palette worked out again, widget by widget; made in place, it is worked out once.
    """

    def __init__(self, into: QObject | None = None) -> None:
        super().__init__()
        self._into = into
        self.moved_in: list[str] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() != QEvent.Type.ParentChange:
            return False
        if not any(isinstance(child, QWidget) for child in watched.children()):
            return False
        parent = watched.parent()
        if parent is None or not self._counts(watched, parent):
            return False
        self.moved_in.append(f"{type(watched).__name__} into {type(parent).__name__}")
        return False

    def _counts(self, watched: QObject, parent: QObject) -> bool:
        if self._into is not None:
            return parent is self._into
        return any(type(o).__module__.startswith("kiosk_app.") for o in (watched, parent))


@dataclass
class KioskUnderTest:
    window: KioskWindow
    screens: ParticipantScreens
    presenter: KioskPresenter
    runner: TaskRunner
    services: KioskServices
    clock: ManualClock
    speaker: Speaker

    def close(self) -> None:
        self.runner.wait()
        self.presenter.shutdown()


def make_kiosk(
    qtbot: QtBot,
    app: QApplication,
    services: KioskServices,
    clock: ManualClock,
    translations: Translations,
) -> KioskUnderTest:
    """The real window, screens and presenter over `services`; timers tick every 10 ms."""
    window = KioskWindow(app, login=LoginScreen(tick_ms=FAST_TICK_MS))
    qtbot.addWidget(window, before_close_func=lambda w: window.allow_exit())
    screens = add_participant_screens(window)
    runner = TaskRunner()
    speaker = Speaker(engine="mock")
    presenter = KioskPresenter(
        window=window,
        screens=screens,
        session=services.session,
        library=services.library,
        clock=clock,
        runner=runner,
        translations=translations,
        app=app,
        speaker=speaker,
        idle_tick_ms=FAST_TICK_MS,
        step_tick_ms=FAST_TICK_MS,
    )
    window.resize(1280, 800)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    presenter.start()
    return KioskUnderTest(window, screens, presenter, runner, services, clock, speaker)


def tap_at(widget: QWidget, pos: QPoint | None = None) -> None:
    """Press and release the left button over `widget` (its centre, or `pos` in it) the way the
    window system delivers a touch or a click: to its native window, which hands it to the
    widget under the point. So the kiosk's input filter sees it, and a widget covered by
    another (the idle warning, say) is not reached. Sent, not queued: a press that would
    reach nothing is not left behind for a later event loop pass."""
    window = widget.window()
    handle = window.windowHandle()
    assert handle is not None, "the widget's window is not shown"
    local = QPointF(widget.mapTo(window, pos if pos is not None else widget.rect().center()))
    on_screen = window.mapToGlobal(local)
    left = Qt.MouseButton.LeftButton
    for kind, held in (
        (QEvent.Type.MouseButtonPress, left),
        (QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton),
    ):
        event = QMouseEvent(
            kind, local, local, on_screen, left, held, Qt.KeyboardModifier.NoModifier
        )
        QApplication.sendEvent(handle, event)


def buttons_named(root: QWidget, name: str) -> list[QPushButton]:
    return [b for b in root.findChildren(QPushButton) if b.accessibleName() == name]


class Participant:
    """Drives the kiosk as a person would: taps on the screen shown, nothing behind it."""

    def __init__(self, qtbot: QtBot, kiosk: KioskUnderTest) -> None:
        self.qtbot = qtbot
        self.kiosk = kiosk
        self.window = kiosk.window

    def screen(self) -> QWidget:
        return self.window.screen_widget(self.window.current_screen())

    def button(self, name: str, root: QWidget | None = None) -> QPushButton:
        found = [b for b in buttons_named(root or self.screen(), name) if b.isVisible()]
        assert len(found) == 1, f"expected one visible button {name!r}, found {len(found)}"
        return found[0]

    def tap(self, name: str, root: QWidget | None = None) -> None:
        button = self.button(name, root)
        assert button.isEnabled(), f"{name!r} is not enabled"
        tap_at(button)

    def wait_for_screen(self, name: str, timeout: int = 5000) -> None:
        self.qtbot.waitUntil(lambda: self.window.current_screen() == name, timeout=timeout)

    def key_in(self, text: str, root: QWidget) -> None:
        """Tap each character on a keypad, switching between its number and letter pages."""
        for char in text:
            if char.isdigit():
                key = f"digit {char}"
                switch = "show numbers"
            else:
                key = "dash" if char == "-" else f"letter {char.upper()}"
                switch = "show letters"
            if not [b for b in buttons_named(root, key) if b.isVisible()]:
                self.tap(switch, root)
            self.tap(key, root)

    def sign_in(self, code: str, pin: str) -> None:
        """From Welcome: Start, the access code, OK, the PIN, OK (the check runs off-thread)."""
        if self.window.current_screen() == "welcome":
            self.tap("Start")
        self.wait_for_screen("login")
        login = self.window.login
        self.key_in(code, login)
        self.tap("OK", login)
        assert login.asking_for_pin()
        self.enter_pin(pin)

    def enter_pin(self, pin: str) -> None:
        login = self.window.login
        self.key_in(pin, login)
        self.tap("OK", login)
        self.qtbot.waitUntil(lambda: not self.kiosk.runner.busy)

    def choose_pin(self, pin: str) -> None:
        screen = self.kiosk.screens.choose_pin
        for _ in range(2):
            self.key_in(pin, screen)
            self.tap("OK", screen)
        self.qtbot.waitUntil(lambda: not self.kiosk.runner.busy)
