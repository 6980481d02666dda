"""`kiosk-app`: the bare command runs the kiosk; everything it keeps is under --data-dir."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from pytestqt.qtbot import QtBot

from kiosk_app.app import LOG_DIR_NAME, LOG_FILE_NAME
from kiosk_app.cli import main
from kiosk_app.store import keys
from kiosk_app.store.db import DB_FILE_NAME

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"KIOSK_KEY_STORE": "file"})
    return result.exit_code, result.output


def test_help_names_the_data_folder_and_the_commands() -> None:
    code, output = run_cli("--help")
    assert code == 0
    for word in ("--data-dir", "--key-store", "--windowed", "status"):
        assert word in output


def test_status_creates_the_kiosk_under_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "kiosk"
    code, output = run_cli("--data-dir", str(data), "status")
    assert code == 0, output
    assert "participants: 0" in output
    assert "journal events: 0" in output
    assert (data / DB_FILE_NAME).is_file()
    assert (data / keys.KEY_FILE_NAME).is_file()


def test_a_wrong_device_key_is_a_plain_error(tmp_path: Path) -> None:
    data = tmp_path / "kiosk"
    assert run_cli("--data-dir", str(data), "status")[0] == 0
    (data / keys.KEY_FILE_NAME).write_bytes(os.urandom(keys.KEY_BYTES))
    code, output = run_cli("--data-dir", str(data), "status")
    assert code == 1
    assert "cannot be opened with this device's key" in output


def test_the_bare_command_starts_an_empty_kiosk_on_welcome_and_stops_on_sigterm(
    qtbot: QtBot, tmp_path: Path
) -> None:
    data = tmp_path / "kiosk"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KIOSK_KEY_STORE": "file"}
    log = data / LOG_DIR_NAME / LOG_FILE_NAME
    app = subprocess.Popen(
        [sys.executable, "-m", "kiosk_app", "--data-dir", str(data)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        qtbot.waitUntil(
            lambda: log.is_file() and "screen shown: welcome" in log.read_text("utf-8"),
            timeout=30_000,
        )
        app.send_signal(signal.SIGTERM)
        _, stderr = app.communicate(timeout=30)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
    assert app.returncode == 0, stderr.decode()
    text = log.read_text("utf-8")
    assert "kiosk started" in text
    assert "kiosk stopped" in text
    kept = {p.name for p in data.iterdir()}
    assert {DB_FILE_NAME, keys.KEY_FILE_NAME, LOG_DIR_NAME} <= kept
    assert kept <= {
        DB_FILE_NAME,
        keys.KEY_FILE_NAME,
        LOG_DIR_NAME,
        f"{DB_FILE_NAME}-wal",
        f"{DB_FILE_NAME}-shm",
    }


def test_python_dash_m_is_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kiosk_app", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Usage: kiosk-app" in result.stdout
