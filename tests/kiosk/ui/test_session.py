"""The kiosk's QApplication: made with video in software, the user bus named (no autolaunched
D-Bus daemon), and Qt's font database filled on a worker thread."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk_app.ui.session import (
    SESSION_BUS_ENV,
    open_application,
    settle_session_bus,
    user_bus_address,
    warm_font_database,
)
from tests.support.display import xvfb
from tests.support.kiosk_process import REPO, KioskProcess

# What any PySide program does first: a label, on an X display. Qt's accessibility bridge
# then asks libdbus for the session bus.
_BARE_LABEL = """
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel("Start")
"""

# A video widget shown by the kiosk's application, or by a bare one: the libraries it loaded.
_VIDEO_WIDGET = """
import sys
from PySide6.QtWidgets import QApplication, QMainWindow
from PySide6.QtMultimediaWidgets import QVideoWidget
if sys.argv[1] == "kiosk":
    from kiosk_app.ui.session import open_application
    app = open_application()
else:
    app = QApplication([])
window = QMainWindow()
window.setCentralWidget(QVideoWidget())
window.resize(400, 300)
window.show()
for _ in range(20):
    app.processEvents()
with open("/proc/self/maps") as maps:
    print(" ".join({line.split()[-1].rsplit("/", 1)[-1] for line in maps if ".so" in line}))
"""
_OPENGL_DRIVERS = ("libLLVM", "_dri.so")

_FAKE_DBUS_LAUNCH = """#!/bin/sh
echo "$@" >> "$DBUS_LAUNCH_MARKER"
exit 1
"""


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({SESSION_BUS_ENV: "unix:path=/run/user/1000/bus"}, None),
        ({SESSION_BUS_ENV: "unix:abstract=/tmp/dbus-x"}, None),
        ({"XDG_RUNTIME_DIR": "/run/user/1000"}, "unix:path=/run/user/1000/bus"),
        ({SESSION_BUS_ENV: "", "XDG_RUNTIME_DIR": "/run/user/7"}, "unix:path=/run/user/7/bus"),
        ({}, "unix:path=/run/user/1234/bus"),
        ({"XDG_RUNTIME_DIR": "/tmp/a b;c=d"}, "unix:path=/tmp/a%20b%3bc%3dd/bus"),
    ],
)
def test_the_user_bus_is_named_only_when_the_session_named_none(
    environ: dict[str, str], expected: str | None
) -> None:
    assert user_bus_address(environ, 1234) == expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="libdbus: Linux only")
def test_settling_sets_the_address_once_and_keeps_a_given_one() -> None:
    environ = {"XDG_RUNTIME_DIR": "/run/user/1000"}
    assert settle_session_bus(environ) == "unix:path=/run/user/1000/bus"
    assert environ[SESSION_BUS_ENV] == "unix:path=/run/user/1000/bus"
    given = {SESSION_BUS_ENV: "unix:path=/elsewhere", "XDG_RUNTIME_DIR": "/run/user/1000"}
    assert settle_session_bus(given) is None
    assert given[SESSION_BUS_ENV] == "unix:path=/elsewhere"


def test_the_font_database_fills_on_a_worker_thread(qapp: object) -> None:
    from PySide6.QtGui import QFontDatabase

    thread = warm_font_database()
    assert thread.name == "kiosk-fonts"
    assert thread.daemon
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert QFontDatabase.families(), "the font database lists no font"


def test_the_application_there_is_is_kept(qapp: object) -> None:
    assert open_application() is qapp


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/maps")
def test_video_is_drawn_without_an_opengl_driver(tmp_path: Path) -> None:
    with xvfb() as display:
        env = {**os.environ, "DISPLAY": display, SESSION_BUS_ENV: "unix:path=/nonexistent"}
        env.pop("QT_QPA_PLATFORM", None)

        def libraries(which: str) -> str:
            done = subprocess.run(
                [sys.executable, "-c", _VIDEO_WIDGET, which],
                env=env,
                cwd=REPO,
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            )
            return done.stdout

        # The control: a bare application's video widget loads Mesa's driver (LLVM).
        assert any(name in libraries("bare") for name in _OPENGL_DRIVERS)
        loaded = libraries("kiosk")
    assert not [name for name in _OPENGL_DRIVERS if name in loaded], loaded


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="libdbus: Linux only")
def test_the_kiosk_never_autolaunches_a_session_bus(tmp_path: Path) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake = fake_bin / "dbus-launch"
    fake.write_text(_FAKE_DBUS_LAUNCH)
    fake.chmod(0o755)
    marker = tmp_path / "dbus-launch-ran"
    runtime = tmp_path / "run"  # a runtime folder with no bus in it
    runtime.mkdir(mode=0o700)
    with xvfb() as display:
        env = {k: v for k, v in os.environ.items() if k not in (SESSION_BUS_ENV, "QT_QPA_PLATFORM")}
        env.update(
            DISPLAY=display,
            PATH=f"{fake_bin}{os.pathsep}{env.get('PATH', '')}",
            XDG_RUNTIME_DIR=str(runtime),
            DBUS_LAUNCH_MARKER=str(marker),
            KIOSK_KEY_STORE="file",
        )
        # The control: left alone, libdbus does run dbus-launch for a PySide label here.
        subprocess.run(
            [sys.executable, "-c", _BARE_LABEL], env=env, check=True, timeout=60, cwd=REPO
        )
        assert marker.is_file(), "a bare PySide label did not reach dbus-launch"
        assert "--autolaunch" in marker.read_text()
        marker.unlink()

        with KioskProcess(tmp_path / "kiosk", env) as app:
            app.wait_for("kiosk services ready", timeout=60)
            returncode, stderr = app.stop()
    assert returncode == 0, stderr
    assert not marker.exists(), f"the kiosk ran dbus-launch {marker.read_text()!r}"
