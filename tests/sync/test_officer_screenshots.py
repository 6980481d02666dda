"""The officer console photographed for docs/officer-guide.md, used as an officer uses it.

The kiosk is `KioskUi` as `kiosk-app` builds it (window, theme, presenters, console, sync
driver) over a blank data folder, against the real server on loopback: it is enrolled with a
one-time code (the programme downloads for real), an officer signs in with an account that
came down with the first sync, presses Sync now, registers a participant and gets the slip;
the participant's wrong PINs then go to the kiosk's login service (what its keypad calls)
until they are locked out, and the officer finds them. The officer's every step goes through
keys and buttons by their accessible names. The console logs no screen
changes for a separate process to wait on (unlike the participant screens photographed by
tests/kiosk/ui/test_screenshots.py), so the window is drawn in-process with `QWidget.grab`,
the same widgets and stylesheet the kiosk shows. The printed slip is the PDF the console's
printer code writes, drawn by PDFium. Demo names only.

Each run writes fresh PNGs to build/screenshots/; the guide's copies are in docs/screenshots/.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QImage
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QPlainTextEdit
from pytestqt.qtbot import QtBot

from kiosk_app.core.auth import LoginOutcome
from kiosk_app.ui.officer.printing import SlipPrinter
from kiosk_app.ui.officer.register import Slip
from tests.dashboard.rasterise import first_page_png, ink
from tests.dashboard.test_devices_screenshot import SHOTS as DASHBOARD_SHOTS
from tests.support.kiosk import OFFICER_PASSWORD
from tests.support.live_server import LiveServer
from tests.support.officer_ui import OfficerAtKiosk
from tests.support.walk import HEADLESS_MEDIA
from tests.support.world import World
from tests.sync.window_kiosks import OpenWindow, WindowKiosk

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO / "build" / "screenshots"
WIDTH, HEIGHT = 1280, 800
SCREENS = (
    "officer-enrol",
    "officer-sign-in",
    "officer-console",
    "officer-register",
    "officer-slip",
    "officer-participant",
)
FIRST_NAME = "Alex"  # a demo participant: nobody's real details appear in the guide
FORCE_REFERENCE = "DEMO/2026/0001"
CONDITIONS = "Complete the programme by the due date."

# QtMultimedia loads with the kiosk window and finds no PipeWire here (the private PulseAudio
# server of tests/conftest.py plays instead).
pytestmark = HEADLESS_MEDIA


def shoot(kiosk: WindowKiosk, name: str) -> None:
    kiosk.qtbot.waitExposed(kiosk.ui.window)
    # A widget a layout takes while its screen is shown appears on a posted call: run those.
    QCoreApplication.sendPostedEvents()
    QCoreApplication.processEvents()
    picture = kiosk.ui.window.grab()
    assert picture.save(str(SCREENSHOT_DIR / f"{name}.png")), f"could not save {name}.png"


def lock_out(kiosk: WindowKiosk, access_code: str, pin: str) -> None:
    """Wrong PINs at the kiosk until the participant is locked out, as a forgetful one's."""
    login = kiosk.services.login
    wrong = "000000" if pin != "000000" else "111111"
    for _ in range(20):
        kiosk.clock.advance(120)  # past any wait between tries
        result = login.attempt(access_code=access_code, pin=wrong)
        if result.outcome is LoginOutcome.LOCKED:
            return
    pytest.fail("twenty wrong PINs did not lock the participant out")


def enrol(officer: OfficerAtKiosk, server: LiveServer, world: World) -> None:
    officer.qtbot.waitUntil(lambda: officer.window.current_screen() == "enrol")  # blank kiosk
    officer.type_into("Server address", server.url)
    QTest.keyClick(officer.field("Server address"), Qt.Key.Key_Return)
    QTest.keyClicks(officer.field("Enrolment code"), world.code("north-custody"))
    QTest.keyClick(officer.field("Enrolment code"), Qt.Key.Key_Return)
    officer.settle(timeout=60_000)
    status = officer.console.screens.enrol.status()
    assert "enrolled for North Constabulary, North-Custody" in status
    assert officer.console.screens.enrol.download_percent() == 100


def sign_in(officer: OfficerAtKiosk) -> None:
    officer.tap("Continue")
    officer.qtbot.waitUntil(lambda: officer.window.current_screen() == "officer-sign-in")
    officer.type_into("Username", "olive")
    officer.type_into("Password", OFFICER_PASSWORD)


def sync_now(officer: OfficerAtKiosk) -> None:
    officer.tap("Sync now")
    console = officer.console.screens.console
    officer.qtbot.waitUntil(lambda: console.message() == "Sync finished.", timeout=60_000)
    officer.settle()  # the status is read again after the sync
    assert console.status()["Last successful sync"] != "Never"
    assert console.status()["This kiosk"] == "North Constabulary, North-Custody"

    def status_shown() -> bool:
        values = [w for w in console.findChildren(QLabel) if w.accessibleName() == "This kiosk"]
        return len(values) == 1 and values[0].isVisible()

    officer.qtbot.waitUntil(status_shown)


def fill_in_registration(officer: OfficerAtKiosk) -> None:
    officer.tap("Register a participant")
    officer.settle()
    assert officer.window.current_screen() == "register"
    officer.type_into("First name", FIRST_NAME)
    officer.type_into("Force reference", FORCE_REFERENCE)
    conditions = officer.field("Conditions")
    assert isinstance(conditions, QPlainTextEdit)
    conditions.setFocus(Qt.FocusReason.TabFocusReason)
    QTest.keyClicks(conditions, CONDITIONS)


def open_record(officer: OfficerAtKiosk) -> None:
    officer.tap("Find a participant")
    officer.settle()
    officer.type_into("Access code or first name", FIRST_NAME)
    officer.tap("Search")
    officer.settle()
    found = officer.console.screens.find.results()
    assert len(found) == 1
    assert found[0].endswith("locked")
    officer.tap("Open")
    officer.settle()
    assert officer.window.current_screen() == "participant"


def print_slip(slip: dict[str, str], pdf: Path, png: Path) -> str:
    """The slip as the console prints it (its own printer code), onto a PDF; drawn as a PNG."""
    printer = QPrinter()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(pdf))
    shown = Slip(
        access_code=slip["Access code"],
        temporary_pin=slip["Temporary PIN"],
        programme=slip["Programme"],
        deadline=slip["Deadline"],
    )
    assert SlipPrinter().print_slip(shown, printer)
    return first_page_png(pdf.read_bytes(), png)


@pytest.fixture
def screenshots(
    qtbot: QtBot,
    server: LiveServer,
    world: World,
    open_window: OpenWindow,
    null_audio_sink: str,
    tmp_path: Path,
) -> dict[str, str]:
    """Walks the console and photographs it; answers the slip as the screen showed it."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for name in (*SCREENS, "officer-slip-printed"):
        (SCREENSHOT_DIR / f"{name}.png").unlink(missing_ok=True)
    world.add_staff("olive", password=OFFICER_PASSWORD)
    kiosk = open_window("kiosk")
    officer = kiosk.officer()

    enrol(officer, server, world)
    shoot(kiosk, "officer-enrol")
    sign_in(officer)
    shoot(kiosk, "officer-sign-in")
    QTest.keyClick(officer.field("Password"), Qt.Key.Key_Return)
    officer.settle()
    assert officer.window.current_screen() == "console"
    sync_now(officer)
    shoot(kiosk, "officer-console")
    fill_in_registration(officer)
    shoot(kiosk, "officer-register")
    officer.tap("Register")
    officer.settle()
    assert officer.window.current_screen() == "slip"
    shoot(kiosk, "officer-slip")
    slip = officer.console.screens.slip.slip()
    text = print_slip(slip, tmp_path / "slip.pdf", SCREENSHOT_DIR / "officer-slip-printed.png")
    assert slip["Access code"] in text
    assert slip["Temporary PIN"] in text
    assert FIRST_NAME not in text  # a slip left on a counter names nobody
    officer.tap("Done")
    officer.settle()

    lock_out(kiosk, slip["Access code"], slip["Temporary PIN"])
    open_record(officer)
    shoot(kiosk, "officer-participant")
    for back in ("Back", "Back", "Lock"):  # record, search, console: the kiosk locked again
        officer.tap(back)
        officer.settle()
    assert officer.window.current_screen() == "welcome"
    return slip


def colours(path: Path) -> Counter[int]:
    image = QImage(str(path))
    assert not image.isNull(), f"{path.name} is not an image"
    assert (image.width(), image.height()) == (WIDTH, HEIGHT), path.name
    step = 4
    return Counter(image.pixel(x, y) for y in range(0, HEIGHT, step) for x in range(0, WIDTH, step))


def test_each_console_screen_and_the_printed_slip_are_photographed_and_none_is_blank(
    screenshots: dict[str, str],
) -> None:
    seen = {}
    for name in SCREENS:
        path = SCREENSHOT_DIR / f"{name}.png"
        pixels = colours(path)
        _background, count = pixels.most_common(1)[0]
        total = sum(pixels.values())
        assert len(pixels) > 16, f"{name}: one flat colour, nothing was drawn"
        assert (total - count) / total > 0.02, f"{name}: almost nothing but background"
        seen[name] = path.read_bytes()
    assert len(set(seen.values())) == len(SCREENS), "two screenshots show the same screen"
    printed = SCREENSHOT_DIR / "officer-slip-printed.png"
    assert printed.read_bytes().startswith(b"\x89PNG")
    assert ink(printed) > 0.005, "the printed slip is blank paper"


def test_the_officer_guide_shows_only_screenshots_these_tests_make() -> None:
    guide = (REPO / "docs" / "officer-guide.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"\(screenshots/([\w-]+)\.png\)", guide))
    made = {*SCREENS, "officer-slip-printed", *DASHBOARD_SHOTS}
    assert shown == made
    for name in shown:
        assert (REPO / "docs" / "screenshots" / f"{name}.png").is_file(), name
