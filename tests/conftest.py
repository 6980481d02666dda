"""Shared fixtures: external tools the tests need, found or failed loudly."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # Qt loads only in tests that use it
    from PySide6.QtWidgets import QApplication

# Qt tests must never need a display; a screenshot test sets DISPLAY itself.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _require_tool(name: str) -> Path:
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"`{name}` is not installed; run `make deps` as root "
            f"(it installs the Debian package `{name}`)",
            pytrace=False,
        )
    return Path(found)


@pytest.fixture(scope="session")
def age_cli() -> Path:
    """The reference `age` command (Debian package `age`)."""
    return _require_tool("age")


@pytest.fixture(scope="session")
def age_keygen_cli() -> Path:
    """The reference `age-keygen` command (Debian package `age`)."""
    return _require_tool("age-keygen")


@pytest.fixture(scope="session")
def minisign_cli() -> Path:
    """The `minisign` command (Debian package `minisign`)."""
    return _require_tool("minisign")


@pytest.fixture(scope="session")
def null_audio_sink(qapp: QApplication, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private PulseAudio server whose one sink discards sound: a real audio device.

    Autouse for the kiosk UI tests (tests/kiosk/ui); other tests that play media ask for it.

    A headless box has no sound card, and QtMultimedia then warns "No audio device
    detected" and plays against no sink at all. Against this server it plays as on a
    kiosk. QtMultimedia connects once per process, so this runs before any UI test and
    connects it at once; the server leaves by itself a minute after that connection ends.
    """
    daemon = shutil.which("pulseaudio")
    if daemon is None:
        pytest.fail(
            "`pulseaudio` is not installed; run `make deps` as root "
            "(it installs the Debian package `pulseaudio`)",
            pytrace=False,
        )
    home = tmp_path_factory.mktemp("pulse")
    socket = home / "native"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "XDG_RUNTIME_DIR": str(home)}
    # --daemonize returns once the server is ready, so nothing here waits or polls.
    subprocess.run(
        [
            daemon,
            *("--daemonize=yes", "--use-pid-file=yes", "--system=no", "-n"),
            *("--exit-idle-time=60", "--realtime=no", "--high-priority=no"),
            f"--log-target=file:{home / 'pulseaudio.log'}",
            "--load=module-null-sink sink_name=kiosk_tests",
            f"--load=module-native-protocol-unix auth-anonymous=1 socket={socket}",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    from PySide6.QtMultimedia import QMediaDevices

    previous = os.environ.get("PULSE_SERVER")
    os.environ["PULSE_SERVER"] = f"unix:{socket}"
    try:
        outputs = [device.description() for device in QMediaDevices.audioOutputs()]
        assert outputs, f"QtMultimedia found no audio output on {socket}"
        yield os.environ["PULSE_SERVER"]
    finally:
        if previous is None:
            os.environ.pop("PULSE_SERVER", None)
        else:
            os.environ["PULSE_SERVER"] = previous
        # The server goes by itself once this process, its one client, has gone: stopping it
        # sooner would make QtMultimedia complain while pytest finishes.
