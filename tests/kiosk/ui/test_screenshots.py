"""The real kiosk app under Xvfb, driven by X key events: welcome, login, a reading, a quiz.

`python -m kiosk_app` runs on a seeded data folder on a fresh Xvfb display; `xdotool` types
on it as a keyboard would (no test hook inside the app); the app's log says which screen it
has shown, and a small child process grabs the display. The PNGs land in build/screenshots/
for the README.
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

from content_packs import model
from kiosk_app.core.clock import ManualClock
from tests.support.kiosk import (
    START,
    build_sample_pack,
    install_sample,
    open_test_store,
    register,
    settle_first_login,
    work_until,
)
from tests.support.kiosk_process import KioskProcess

REPO = Path(__file__).resolve().parents[3]
SCREENSHOT_DIR = REPO / "build" / "screenshots"
SCREENS = ("welcome", "login", "reading", "quiz")
WIDTH, HEIGHT = 1280, 800
CODE = "ABC-00001"
PIN = "482916"


# A child process (imports nothing of ours, so it starts fast): save the X display as a PNG.
GRAB = """
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication(sys.argv[:1])
if not app.primaryScreen().grabWindow(0).save(sys.argv[1]):
    raise SystemExit("could not save " + sys.argv[1])
"""


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


def first_quiz_and_the_reading_before(programme: model.Programme) -> tuple[str, str]:
    """The first quiz, and the last reading before it (the screens to photograph)."""
    steps = list(programme.all_steps())
    quiz = next(i for i, s in enumerate(steps) if isinstance(s, model.QuizStep))
    reading = max(i for i, s in enumerate(steps[:quiz]) if isinstance(s, model.ReadingStep))
    return steps[quiz].id, steps[reading].id


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A kiosk whose participant stopped on the reading just before the first quiz.

    Returns the data folder and how many steps there are from that reading to the quiz.
    """
    sample = build_sample_pack(tmp_path_factory.mktemp("pack"))
    data = tmp_path_factory.mktemp("kiosk") / "data"
    quiz, reading = first_quiz_and_the_reading_before(sample.programme)
    clock = ManualClock(START)
    with open_test_store(data) as store:
        install_sample(store, sample)
        who = register(store, programme=sample.programme, access_code=CODE)
        who = settle_first_login(store, who, own_pin=PIN, clock=clock)
        work_until(store, who, sample.programme, step_id=quiz, back_to=reading, clock=clock)
    order = [s.id for s in sample.programme.all_steps()]
    return data, order.index(quiz) - order.index(reading)


class RunningKiosk(KioskProcess):
    def __init__(self, display: str, data: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        env.update(DISPLAY=display, KIOSK_KEY_STORE="file")
        super().__init__(data, env)

    def keys(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], env=self.env, check=True, timeout=30)

    def grab(self, name: str) -> None:
        subprocess.run(
            [sys.executable, "-c", GRAB, str(SCREENSHOT_DIR / name)],
            env=self.env,
            cwd=REPO,
            check=True,
            timeout=60,
        )


@pytest.fixture(scope="module")
def xdotool() -> str:
    found = shutil.which("xdotool")
    if found is None:
        pytest.fail("`xdotool` is not installed; run `make deps` as root (package xdotool)")
    return found


@pytest.fixture
def screenshots(xvfb_display: str, xdotool: str, seeded: tuple[Path, int]) -> Path:
    data, steps_to_quiz = seeded
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for name in SCREENS:
        (SCREENSHOT_DIR / f"{name}.png").unlink(missing_ok=True)
    kiosk = RunningKiosk(xvfb_display, data)
    try:
        kiosk.wait_for("screen shown: welcome")
        kiosk.grab("welcome.png")
        kiosk.keys("key", "Return")  # Start has the focus
        kiosk.wait_for("screen shown: login")
        kiosk.keys("type", "--delay", "30", CODE)
        kiosk.keys("key", "Return")
        kiosk.keys("type", "--delay", "30", PIN[:3])
        kiosk.grab("login.png")
        kiosk.keys("type", "--delay", "30", PIN[3:])
        kiosk.keys("key", "Return")
        kiosk.wait_for("screen shown: home")
        kiosk.keys("key", "Return")  # Continue has the focus
        kiosk.wait_for("step shown: reading")
        kiosk.grab("reading.png")
        for _ in range(steps_to_quiz):
            kiosk.keys("key", "alt+Right")
        kiosk.wait_for("step shown: quiz")
        kiosk.grab("quiz.png")
    finally:
        status, _ = kiosk.stop()
    assert status == 0, "the kiosk did not stop cleanly on SIGTERM"
    return SCREENSHOT_DIR


def colours(path: Path) -> Counter[int]:
    from PySide6.QtGui import QImage

    image = QImage(str(path))
    assert not image.isNull()
    assert (image.width(), image.height()) == (WIDTH, HEIGHT)
    step = 4
    return Counter(image.pixel(x, y) for y in range(0, HEIGHT, step) for x in range(0, WIDTH, step))


def test_the_real_app_shows_each_screen_and_none_is_blank(screenshots: Path) -> None:
    seen = {}
    for name in SCREENS:
        pixels = colours(screenshots / f"{name}.png")
        _background, count = pixels.most_common(1)[0]
        total = sum(pixels.values())
        assert len(pixels) > 16, f"{name}: one flat colour, nothing was drawn"
        assert (total - count) / total > 0.03, f"{name}: almost nothing but background"
        seen[name] = (screenshots / f"{name}.png").read_bytes()
    assert len(set(seen.values())) == len(SCREENS), "two screenshots show the same screen"
