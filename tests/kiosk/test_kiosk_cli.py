"""`kiosk-app`: the bare command runs the kiosk; everything it keeps is under --data-dir."""

from __future__ import annotations

import gc
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk_app.app import LOG_DIR_NAME, LOG_FILE_NAME
from kiosk_app.cli import build_parser, main, parse_args
from kiosk_app.store import keys
from kiosk_app.store.db import DB_FILE_NAME
from kiosk_app.ui.main import RunOptions
from tests.support.kiosk_process import KioskProcess

REPO = Path(__file__).resolve().parents[2]
RunCli = Callable[..., tuple[int, str]]


@pytest.fixture
def run_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[int, str]]:
    """`kiosk-app ARGS` in this process: its exit status and everything it printed."""
    monkeypatch.setenv("KIOSK_KEY_STORE", "file")

    def run(*args: str) -> tuple[int, str]:
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse: --help, --version, usage errors
            code = exit_.code if isinstance(exit_.code, int) else 1
        out, err = capsys.readouterr()
        return code, out + err

    return run


_WORDS = st.sampled_from(
    [
        *("--data-dir", "--data-dir=", "--data-dir=/srv/kiosk", "--key-store", "--windowed"),
        *("--key-store=file", "--key-store=nope", "--data", "--windowed=1", "-h", "--help"),
        *("--version", "status", "enrol", "file", "auto", "keyring", "other", "/tmp/k i"),
        *("-x", "-", "", "=", "a=b", "--server", "--code"),
    ]
)


@given(st.lists(_WORDS, max_size=6))
def test_the_bare_command_reads_its_options_as_argparse_does(argv: list[str]) -> None:
    # parse_args reads the bare command's plain options itself (argparse's first parser costs
    # the cold start ~5 ms); whatever it reads must be what argparse reads, and whatever
    # argparse refuses must reach argparse.
    try:
        expected = vars(build_parser().parse_args(argv))
    except SystemExit:
        expected = None
    try:
        seen = vars(parse_args(argv))
    except SystemExit:
        seen = None
    assert seen == expected


def test_the_bare_command_starts_without_building_argparse_parsers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = ["--data-dir", "/srv/kiosk", "--key-store=file", "--windowed"]
    expected = vars(build_parser().parse_args(argv))

    def no_parser() -> None:
        raise AssertionError("argparse's parsers were built")

    monkeypatch.setattr("kiosk_app.cli.build_parser", no_parser)
    assert vars(parse_args(argv)) == expected
    assert expected["data_dir"] == Path("/srv/kiosk")


def test_help_names_the_data_folder_and_the_commands(run_cli: RunCli) -> None:
    code, output = run_cli("--help")
    assert code == 0
    for word in ("--data-dir", "--key-store", "--windowed", "status", "enrol"):
        assert word in output


def test_version_and_usage_errors(run_cli: RunCli) -> None:
    code, output = run_cli("--version")
    assert (code, output.strip()) == (0, f"kiosk-app, version {version('intervention-kiosk')}")
    code, output = run_cli("--key-store", "drawer")
    assert code == 2
    assert "invalid choice: 'drawer'" in output
    code, output = run_cli("enrol", "--server", "https://sync.example.org")
    assert code == 2
    assert "--code" in output


def test_the_key_store_may_come_from_the_environment_but_must_be_known(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KIOSK_KEY_STORE", "vault")
    code, output = run_cli("--data-dir", str(tmp_path / "kiosk"), "status")
    assert code == 2
    assert "KIOSK_KEY_STORE='vault' is not one of auto, file, keyring" in output
    assert not (tmp_path / "kiosk").exists()


def test_the_data_folder_may_come_from_the_environment(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = tmp_path / "from-env"
    monkeypatch.setenv("KIOSK_DATA_DIR", str(data))
    code, output = run_cli("status")
    assert code == 0, output
    assert f"data folder: {data}" in output
    assert (data / DB_FILE_NAME).is_file()


def test_status_creates_the_kiosk_under_the_data_folder(run_cli: RunCli, tmp_path: Path) -> None:
    data = tmp_path / "kiosk"
    code, output = run_cli("--data-dir", str(data), "status")
    assert code == 0, output
    assert "participants: 0" in output
    assert "journal events: 0" in output
    assert (data / DB_FILE_NAME).is_file()
    assert (data / keys.KEY_FILE_NAME).is_file()


def test_a_wrong_device_key_is_a_plain_error(run_cli: RunCli, tmp_path: Path) -> None:
    data = tmp_path / "kiosk"
    assert run_cli("--data-dir", str(data), "status")[0] == 0
    (data / keys.KEY_FILE_NAME).write_bytes(os.urandom(keys.KEY_BYTES))
    code, output = run_cli("--data-dir", str(data), "status")
    assert code == 1
    assert "cannot be opened with this device's key" in output


def test_the_bare_command_starts_an_empty_kiosk_on_welcome_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    data = tmp_path / "kiosk"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KIOSK_KEY_STORE": "file"}
    log = data / LOG_DIR_NAME / LOG_FILE_NAME
    with KioskProcess(data, env) as app:
        app.wait_for("screen shown: welcome")
        # The store opens once welcome is painted; stopped sooner, the kiosk creates nothing.
        app.wait_for("kiosk services ready")
        returncode, stderr = app.stop()
    assert returncode == 0, stderr
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


def test_the_kiosk_makes_its_application_first_with_the_collector_paused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[object] = []

    def open_application() -> None:  # made first, before the screens' modules load
        seen.append(("application", gc.isenabled()))

    def run(options: RunOptions) -> int:
        seen.append((options.collector_paused, gc.isenabled()))
        if options.early_log is not None:  # the handler `kiosk-app` gave the root logger
            logging.getLogger().removeHandler(options.early_log)
            options.early_log.close()
        return 0

    monkeypatch.setattr("kiosk_app.ui.session.open_application", open_application)
    monkeypatch.setattr("kiosk_app.ui.main.run", run)
    root = logging.getLogger()
    level = root.level  # `kiosk-app` sets the root logger's level as it adds its handler
    try:
        assert main(["--data-dir", str(tmp_path / "kiosk")]) == 0
    finally:
        gc.enable()
        root.setLevel(level)
    assert seen == [("application", False), (True, False)]


_RESUME_PROBE = """
import gc
from kiosk_app.ui.main import resume_collector
gc.disable()
resume_collector()
print(gc.isenabled(), gc.get_freeze_count())
"""


def test_the_collector_resumes_with_what_start_up_built_frozen() -> None:
    # In a child: frozen objects are never collected, so not in the test run's process.
    probe = subprocess.run(
        [sys.executable, "-c", _RESUME_PROBE], capture_output=True, text=True, timeout=60
    )
    assert probe.returncode == 0, probe.stderr
    enabled, frozen = probe.stdout.split()
    assert enabled == "True"
    assert int(frozen) > 10_000  # Qt's modules and types, the kiosk's own


def test_python_dash_m_is_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kiosk_app", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("usage: kiosk-app")
