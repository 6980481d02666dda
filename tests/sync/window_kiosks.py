"""Kiosk windows against the real server: `KioskUi` built as `kiosk-app` builds it (window,
presenters, officer console, sync driver), over its own data folder, enrolled for real."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kiosk_app.app import KioskServices, open_kiosk
from kiosk_app.core.clock import ManualClock
from kiosk_app.store import keys
from kiosk_app.sync.engine import SyncEngine, SyncResult
from kiosk_app.sync.enrol import Enrolled, enrol
from kiosk_app.sync.schedule import Backoff, SyncScheduler
from kiosk_app.ui.main import KioskUi
from kiosk_app.ui.sync_driver import SyncDriver, SyncSetup
from tests.support.kiosk import FAST_HASHER
from tests.support.kiosk_ui import KioskUnderTest, Participant
from tests.support.officer_ui import Console, OfficerAtKiosk
from tests.sync.kiosks import QUICK_RETRY

# The offscreen platform cannot raise windows or pass on size hints; a real display can.
OFFSCREEN_NOISE = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise)\(\)",
    r"No RHI backend\. Using CPU conversion",
)
# No regular sync during a test unless it asks for one: the triggers are what is tested.
QUIET = SyncSetup(
    retry=QUICK_RETRY,
    backoff=Backoff(base_seconds=30, cap_seconds=600),
    scheduler=SyncScheduler(interval_seconds=3600, jitter=0),
    watch_network=False,
)


@dataclass
class WindowKiosk:
    """One kiosk as a person meets it, and what a test needs to look behind it."""

    ui: KioskUi
    clock: ManualClock
    qtbot: QtBot
    synced: list[SyncResult] = field(default_factory=list)  # every sync's result, in order

    @property
    def services(self) -> KioskServices:
        return self.ui.services

    @property
    def driver(self) -> SyncDriver:
        return self.ui.sync

    def under_test(self) -> KioskUnderTest:
        ui = self.ui
        return KioskUnderTest(
            ui.window, ui.screens, ui.presenter, ui.runner, ui.services, self.clock, ui.speaker
        )

    def participant(self) -> Participant:
        return Participant(self.qtbot, self.under_test())

    def officer(self) -> OfficerAtKiosk:
        console = Console(self.ui.officer, self.ui.officer_screens, self.ui.officer_runner)
        return OfficerAtKiosk(self.qtbot, self.ui.window, console)

    def wait_for_sync(self, timeout: int = 30_000) -> SyncResult:
        """The result of the next sync to finish (started by whatever the test did)."""
        before = len(self.synced)
        self.qtbot.waitUntil(lambda: len(self.synced) > before, timeout=timeout)
        return self.synced[before]


def enrol_kiosk(services: KioskServices, server_url: str, code: str) -> Enrolled:
    """`kiosk-app enrol`, before the window opens: the first sync installs the packs."""
    engine = SyncEngine(store=services.store, clock=services.clock, retry=QUICK_RETRY)
    enrolled = enrol(
        store=services.store, engine=engine, server_url=server_url, code=code, retry=QUICK_RETRY
    )
    assert enrolled.first_sync.ok, enrolled.first_sync.error
    return enrolled


OpenWindow = Callable[..., WindowKiosk]


@pytest.fixture
def open_window(qtbot: QtBot, qapp: QApplication, tmp_path: Path) -> Iterator[OpenWindow]:
    """Opens kiosk windows (each over its own data folder); closes them as `kiosk-app` does
    at exit, checks nothing of the sync driver is left running, and puts the theme back."""
    theme = (qapp.style().name(), qapp.styleSheet(), QPalette(qapp.palette()), qapp.font())
    made: list[WindowKiosk] = []

    def open_one(
        name: str,
        *,
        enrol_at: tuple[str, str] | None = None,
        sync: SyncSetup = QUIET,
        clock: ManualClock | None = None,
    ) -> WindowKiosk:
        data = tmp_path / name
        the_clock = clock or ManualClock()
        services = open_kiosk(
            data,
            key_store=keys.FileKeyStore(data / keys.KEY_FILE_NAME),
            clock=the_clock,
            hasher=FAST_HASHER,
        )
        if enrol_at is not None:
            enrol_kiosk(services, *enrol_at)
        ui = KioskUi(qapp, services, sync=sync)
        kiosk = WindowKiosk(ui, the_clock, qtbot)
        ui.sync.finished.connect(kiosk.synced.append)
        made.append(kiosk)
        window = ui.window
        qtbot.addWidget(window, before_close_func=lambda _w: window.allow_exit())
        window.resize(1280, 800)
        window.show()
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow)
        return kiosk

    yield open_one
    for kiosk in made:
        kiosk.ui.close()
        kiosk.ui.translations.remove()
        kiosk.services.close()
        assert not kiosk.driver.running
        assert kiosk.driver.next_due_ms() is None, "the sync timer outlived the kiosk"
    style, sheet, palette, font = theme
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setFont(font)
    qapp.setStyle(style)
