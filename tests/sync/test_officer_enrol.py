"""Enrolling from the officer console against the real server on loopback.

The enrolment and its first sync run on the console's worker; the progress bar is fed by the
sync engine's own progress callback while the real pack downloads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kiosk_app.core.download_meter import DownloadMeter, TransferProgress
from kiosk_app.store import repos
from kiosk_app.sync.engine import SyncEngine
from kiosk_app.ui.officer.progress import DownloadRelay
from tests.support.kiosk import OFFICER_PASSWORD
from tests.support.live_server import LiveServer, listening_socket
from tests.support.officer_ui import OfficerAtKiosk, console_window
from tests.support.world import PROGRAMME_ID, World
from tests.sync.kiosks import QUICK_RETRY, Kiosk

pytestmark = pytest.mark.qt_log_ignore(
    r"This plugin does not support (propagateSizeHints|raise)\(\)"
)


class Stepping:
    """A monotonic clock that moves half a second at every reading: a slow, steady download."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.5
        return self.now


@dataclass
class BlankKiosk:
    officer: OfficerAtKiosk
    kiosk: Kiosk
    progress: list[TransferProgress]


@pytest.fixture
def blank(
    qtbot: QtBot, qapp: QApplication, world: World, make_kiosk: Callable[..., Kiosk]
) -> Iterator[BlankKiosk]:
    world.add_staff("olive", password=OFFICER_PASSWORD)
    kiosk = make_kiosk()
    downloads = DownloadRelay(DownloadMeter(now=Stepping()))
    seen: list[TransferProgress] = []
    downloads.progress.connect(seen.append)
    engine = SyncEngine(
        store=kiosk.store, clock=kiosk.clock, retry=QUICK_RETRY, progress=downloads.report
    )
    with console_window(qtbot, qapp, kiosk, engine=engine, downloads=downloads) as officer:
        officer.console.presenter.start()
        officer.settle()
        yield BlankKiosk(officer, kiosk, seen)


def _enrol(officer: OfficerAtKiosk, server_url: str, code: str) -> None:
    """Typed as an officer would: the address, Return, the code, Return."""
    officer.type_into("Server address", server_url)
    QTest.keyClick(officer.field("Server address"), Qt.Key.Key_Return)
    assert officer.window.focusWidget() is officer.field("Enrolment code")
    QTest.keyClicks(officer.field("Enrolment code"), code)
    QTest.keyClick(officer.field("Enrolment code"), Qt.Key.Key_Return)
    officer.settle(timeout=30_000)


def _enrolled(kiosk: Kiosk) -> bool:
    with kiosk.store.unit() as s:
        return repos.device(s).device_id is not None


def test_a_blank_kiosk_enrols_from_the_console_and_shows_the_download(
    blank: BlankKiosk, server: LiveServer, world: World
) -> None:
    officer = blank.officer
    assert officer.window.current_screen() == "enrol"  # blank: nothing else makes sense
    _enrol(officer, server.url, world.code("north-custody").lower())

    screen = officer.console.screens.enrol
    assert screen.error() == ""
    assert "enrolled for North Constabulary, North-Custody" in screen.status()
    assert f"Programmes installed: {PROGRAMME_ID} v1." in screen.status()
    size = world.pack_path.stat().st_size
    progress = blank.progress
    assert len(progress) >= 2
    assert {(p.pack_id, p.version, p.total) for p in progress} == {(PROGRAMME_ID, 1, size)}
    assert [p.done for p in progress] == sorted(p.done for p in progress)
    assert progress[-1].finished
    measured = [p for p in progress if p.bytes_per_second is not None]
    assert measured, "no report carried a speed"
    # Half a second per reading: the speed is the bytes over those ticks.
    for p in measured:
        assert p.bytes_per_second is not None
        assert p.bytes_per_second > 0
        assert p.seconds_left == pytest.approx((size - p.done) / p.bytes_per_second)
    assert screen.download_percent() == 100
    assert screen.download_details().startswith(f"Programme {PROGRAMME_ID} version 1: ")
    assert screen.download_details().endswith(", done")
    assert _enrolled(blank.kiosk)

    officer.tap("Continue")  # the officer accounts came with the first sync: sign in
    assert officer.window.current_screen() == "officer-sign-in"
    officer.sign_in("olive", OFFICER_PASSWORD)
    assert officer.window.current_screen() == "console"
    status = officer.console.screens.console.status()
    assert status["This kiosk"] == "North Constabulary, North-Custody"
    assert status["Packs cached"] == f"{PROGRAMME_ID} v1"


def test_the_progress_view_shows_speed_and_time_left_while_downloading(
    blank: BlankKiosk, server: LiveServer, world: World
) -> None:
    _enrol(blank.officer, server.url, world.code())
    middle = [p for p in blank.progress if not p.finished and p.bytes_per_second is not None]
    assert middle, "no report came mid-download with a speed"
    view = blank.officer.console.screens.enrol
    view.show_progress(middle[0])  # as it was on screen at that moment
    assert "/s, " in view.download_details()
    assert view.download_details().endswith(" left")
    assert 0 < view.download_percent() < 100


def _unreachable() -> str:
    sock = listening_socket()
    port = sock.getsockname()[1]
    sock.close()  # nobody listens there now
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(
    ("where", "code", "message", "field"),
    [
        ("server", "WRONG-CODE-0001", "does not accept that enrolment code", "Enrolment code"),
        ("spent", None, "does not accept that enrolment code", "Enrolment code"),
        ("nowhere", None, "The server cannot be reached.", "Server address"),
        ("wrong-path", None, "There is no sync server at that address.", "Server address"),
    ],
)
def test_a_refused_enrolment_says_why_and_leaves_the_kiosk_blank(
    blank: BlankKiosk,
    server: LiveServer,
    world: World,
    make_kiosk: Callable[..., Kiosk],
    where: str,
    code: str | None,
    message: str,
    field: str,
) -> None:
    good = world.code()
    if where == "spent":
        make_kiosk("other").enrol(server.url, good)  # another kiosk used this code
    url = {
        "server": server.url,
        "spent": server.url,
        "nowhere": _unreachable(),
        "wrong-path": f"{server.url}/not-the-api",
    }[where]
    officer = blank.officer
    _enrol(officer, url, code or good)
    screen = officer.console.screens.enrol
    assert message in screen.error()
    assert officer.window.focusWidget() is officer.field(field)
    assert not _enrolled(blank.kiosk)
    assert blank.progress == []
    # Put right and tried again, the same screen enrols.
    officer.field("Server address").clear()  # type: ignore[attr-defined]
    officer.field("Enrolment code").clear()  # type: ignore[attr-defined]
    _enrol(officer, server.url, world.code())
    assert screen.error() == ""
    assert _enrolled(blank.kiosk)
