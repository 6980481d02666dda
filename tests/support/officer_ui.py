"""An officer at the real kiosk window: opens the console and uses it by accessible names."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from kiosk_app.core.clock import Clock
from kiosk_app.core.library import PackLibrary
from kiosk_app.core.officer import OfficerService
from kiosk_app.core.officer_auth import OfficerLoginService
from kiosk_app.core.officer_lookup import ParticipantLookup
from kiosk_app.core.session import KioskSession
from kiosk_app.store.db import Store
from kiosk_app.sync.engine import SyncEngine
from kiosk_app.ui.kiosk_window import KioskWindow, add_participant_screens
from kiosk_app.ui.officer.presenter import OfficerPresenter, OfficerScreens, add_officer_screens
from kiosk_app.ui.officer.printing import PrinterChoice, ask_for_printer
from kiosk_app.ui.officer.progress import DownloadRelay
from kiosk_app.ui.presenter import KioskPresenter
from kiosk_app.ui.tasks import TaskRunner
from tests.support.kiosk import FAST_HASHER, OFFICER_PASSWORD


@dataclass
class Console:
    presenter: OfficerPresenter
    screens: OfficerScreens
    runner: TaskRunner
    quits: list[bool] = field(default_factory=list)


def attach_console(
    window: KioskWindow,
    kiosk: KioskPresenter,
    *,
    store: Store,
    clock: Clock,
    engine: SyncEngine | None = None,
    library: PackLibrary | None = None,
    downloads: DownloadRelay | None = None,
    choose_printer: PrinterChoice = ask_for_printer,
) -> Console:
    """The officer console over a kiosk window; quitting the app is only recorded.

    `downloads` is the relay whose `report` `engine` was made with, if progress matters.
    """
    runner = TaskRunner()
    quits: list[bool] = []
    screens = add_officer_screens(window)
    presenter = OfficerPresenter(
        window=window,
        screens=screens,
        kiosk=kiosk,
        login=OfficerLoginService(store=store, clock=clock, hasher=FAST_HASHER),
        officer=OfficerService(store=store, clock=clock, hasher=FAST_HASHER),
        lookup=ParticipantLookup(
            store=store, clock=clock, library=library or PackLibrary(store=store)
        ),
        engine=engine,
        store=store,
        clock=clock,
        runner=runner,
        quit_app=lambda: quits.append(True),
        downloads=downloads,
        choose_printer=choose_printer,
    )
    return Console(presenter, screens, runner, quits)


class OpenKiosk(Protocol):
    """What a kiosk window needs of an open kiosk (the app's services or a sync test's kiosk)."""

    @property
    def store(self) -> Store: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def library(self) -> PackLibrary: ...
    @property
    def session(self) -> KioskSession: ...


@contextmanager
def console_window(
    qtbot: QtBot,
    app: QApplication,
    kiosk: OpenKiosk,
    *,
    engine: SyncEngine | None = None,
    downloads: DownloadRelay | None = None,
) -> Iterator[OfficerAtKiosk]:
    """A plain kiosk window (no translations, no speech) over `kiosk`, shown at the welcome
    screen with the officer console attached; at the end its work is waited for and whoever
    is signed in is signed out."""
    window = KioskWindow(app)
    qtbot.addWidget(window, before_close_func=lambda w: window.allow_exit())
    runner = TaskRunner()
    presenter = KioskPresenter(
        window=window,
        screens=add_participant_screens(window),
        session=kiosk.session,
        library=kiosk.library,
        clock=kiosk.clock,
        runner=runner,
    )
    console = attach_console(
        window,
        presenter,
        store=kiosk.store,
        clock=kiosk.clock,
        engine=engine,
        library=kiosk.library,
        downloads=downloads,
    )
    window.resize(1280, 800)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    presenter.start()
    try:
        yield OfficerAtKiosk(qtbot, window, console)
    finally:
        console.runner.wait()
        runner.wait()
        presenter.shutdown()


class OfficerAtKiosk:
    """Keyboard and taps, as an officer would; waits for background work, never sleeps."""

    def __init__(self, qtbot: QtBot, window: KioskWindow, console: Console) -> None:
        self.qtbot = qtbot
        self.window = window
        self.console = console

    def screen(self) -> QWidget:
        return self.window.screen_widget(self.window.current_screen())

    def press_open_keys(self) -> None:
        target = self.window.focusWidget() or self.window
        modifiers = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
        QTest.keyClick(target, Qt.Key.Key_O, modifiers)

    def field(self, name: str) -> QWidget:
        found = [w for w in self.screen().findChildren(QWidget) if w.accessibleName() == name]
        assert len(found) == 1, f"expected one field {name!r}, found {len(found)}"
        return found[0]

    def type_into(self, name: str, text: str) -> None:
        widget = self.field(name)
        assert isinstance(widget, QLineEdit)
        widget.setFocus(Qt.FocusReason.TabFocusReason)
        QTest.keyClicks(widget, text)

    def tap(self, name: str) -> None:
        found = [
            b
            for b in self.screen().findChildren(QPushButton)
            if b.accessibleName() == name and b.isVisible()
        ]
        assert len(found) == 1, f"expected one button {name!r}, found {len(found)}"
        assert found[0].isEnabled(), f"{name!r} is not enabled"
        QTest.mouseClick(found[0], Qt.MouseButton.LeftButton)

    def settle(self, timeout: int = 10_000) -> None:
        self.qtbot.waitUntil(lambda: not self.console.runner.busy, timeout=timeout)

    def sign_in(self, username: str, password: str) -> None:
        self.type_into("Username", username)
        self.type_into("Password", password)
        QTest.keyClick(self.field("Password"), Qt.Key.Key_Return)
        self.settle()

    def open_console(self, username: str = "olive", password: str = OFFICER_PASSWORD) -> None:
        """Ctrl+Alt+O and sign in (as Olive, whom the test kiosks know): the console shows."""
        self.press_open_keys()
        self.sign_in(username, password)
        assert self.window.current_screen() == "console"

    def register_participant(self, first_name: str, force_reference: str) -> None:
        """From the console: the registration form, filled in and sent."""
        self.tap("Register a participant")
        self.settle()
        assert self.window.current_screen() == "register"
        self.type_into("First name", first_name)
        self.type_into("Force reference", force_reference)
        self.tap("Register")
        self.settle()
