"""The real kiosk window renders under Xvfb; saves welcome and login screenshots for the README.

Run as a script (`python -m tests.kiosk.ui.test_screenshots OUT_DIR`) it is the child process
that shows the window on the X display and grabs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

SCREENSHOT_DIR = Path(__file__).resolve().parents[3] / "build" / "screenshots"
SCREENS = ("welcome", "login")
WIDTH, HEIGHT = 1280, 800


def main(out_dir: Path) -> None:
    """Show the kiosk window full screen and save one PNG per screen."""
    from PySide6.QtWidgets import QApplication

    from kiosk_app.ui.i18n import Translations
    from kiosk_app.ui.kiosk_window import KioskWindow, ScreenName
    from kiosk_app.ui.theme import apply_theme
    from kiosk_app.ui.viewmodels import AccessibilityOptions

    app = QApplication(sys.argv[:1])
    translations = Translations(app)
    translations.switch_to("en")
    apply_theme(app, AccessibilityOptions())
    window = KioskWindow(app)
    window.welcome.set_languages(translations.language_options())
    window.enter_kiosk_mode()
    out_dir.mkdir(parents=True, exist_ok=True)

    def grab(name: str) -> None:
        for _ in range(20):
            app.processEvents()
        screen = window.screen()
        pixmap = screen.grabWindow(window.winId())
        if not pixmap.save(str(out_dir / f"{name}.png")):
            raise SystemExit(f"could not save {name}.png")

    window.show_screen(ScreenName.WELCOME)
    grab("welcome")
    window.show_screen(ScreenName.LOGIN)
    for char in "ABC-1234":
        window.login.keypad.press(char)
    grab("login")
    window.allow_exit()
    window.close()


@pytest.fixture(scope="module")
def xvfb_display() -> Iterator[str]:
    """A fresh Xvfb server on a display number it picks itself (-displayfd)."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.fail("`Xvfb` is not installed; run `make deps` as root (package xvfb)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        [
            xvfb,
            "-displayfd",
            str(write_end),
            "-screen",
            "0",
            f"{WIDTH}x{HEIGHT}x24",
            "-nolisten",
            "tcp",
        ],
        pass_fds=(write_end,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as pipe:
            number = pipe.readline().strip()
        assert number.isdigit(), "Xvfb did not report a display number"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def screenshots(xvfb_display: str) -> Path:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["DISPLAY"] = xvfb_display
    for name in SCREENS:
        (SCREENSHOT_DIR / f"{name}.png").unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, "-m", "tests.kiosk.ui.test_screenshots", str(SCREENSHOT_DIR)],
        env=env,
        cwd=SCREENSHOT_DIR.parents[1],
        check=True,
        timeout=60,
    )
    return SCREENSHOT_DIR


@pytest.mark.parametrize("name", SCREENS)
def test_screenshot_is_not_blank(screenshots: Path, name: str) -> None:
    from PySide6.QtGui import QImage

    image = QImage(str(screenshots / f"{name}.png"))
    assert not image.isNull()
    assert (image.width(), image.height()) == (WIDTH, HEIGHT)
    step = 4
    pixels = Counter(
        image.pixel(x, y) for y in range(0, HEIGHT, step) for x in range(0, WIDTH, step)
    )
    background, count = pixels.most_common(1)[0]
    total = sum(pixels.values())
    assert len(pixels) > 16, "one flat colour: nothing was drawn"
    assert (total - count) / total > 0.03, "almost nothing but background"


if __name__ == "__main__":
    main(Path(sys.argv[1]))
