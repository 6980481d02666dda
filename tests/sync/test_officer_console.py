"""Sync now from the officer console, against the real server on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.support.kiosk import OFFICER_PASSWORD
from tests.support.live_server import LiveServer
from tests.support.officer_ui import OfficerAtKiosk, console_window
from tests.support.world import World
from tests.sync.kiosks import Kiosk

pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise)\(\)"
)


@pytest.fixture
def enrolled(server: LiveServer, world: World, make_kiosk: Callable[..., Kiosk]) -> Kiosk:
    world.add_staff("olive", password=OFFICER_PASSWORD)
    kiosk = make_kiosk()
    kiosk.enrol(server.url, world.code("north-custody"))
    return kiosk


@pytest.fixture
def officer(qtbot: QtBot, qapp: QApplication, enrolled: Kiosk) -> Iterator[OfficerAtKiosk]:
    with console_window(qtbot, qapp, enrolled, engine=enrolled.engine) as at_kiosk:
        yield at_kiosk


def test_sync_now_runs_a_sync_and_shows_the_result(
    officer: OfficerAtKiosk, enrolled: Kiosk
) -> None:
    officer.open_console()  # as Olive, whose credential the enrolment pulled
    console = officer.console.screens.console
    assert console.status()["Last successful sync"] != "Never"
    enrolled.clock.advance(60)
    officer.tap("Sync now")
    officer.settle()
    assert console.message() == "Sync finished."
    assert console.status()["Events waiting"] == "0"
    assert console.status()["Last error"] == "None"
