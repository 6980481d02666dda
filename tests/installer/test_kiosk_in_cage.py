"""The kiosk session's command run for real: cage with the bundled kiosk as its only client.

The command, its environment and the folders come from installer/kiosk's unit file itself
(ExecStart=, Environment=), with the built bundle for /opt/intervention-kiosk and temporary
folders for the state and cache directories, run as an unprivileged user (cage refuses root)
on wlroots' headless backend: this machine has no seat. So the unit's command line, its
Wayland platform and what cage needs to start (Xwayland: cage 0.1.4 will not start without
it, and Debian's cage package does not pull it in) are proven here. systemd's own restart
needs systemd as PID 1; the kiosk is killed and the same command started again on the same
folder instead, which is what `Restart=always` does.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk_app.app import LOG_DIR_NAME, LOG_FILE_NAME
from tests.support import bundle
from tests.support.live_server import wait_until

pytestmark = pytest.mark.bundle

UNIT = bundle.ROOT / "installer" / "kiosk" / "intervention-kiosk.service"
APP_DIR = "/opt/intervention-kiosk"
STATE_DIR = "/var/lib/intervention-kiosk"
CACHE_DIR = "/var/cache/intervention-kiosk"
SESSION_USER = "nobody"  # as root; otherwise whoever runs the tests
WAIT_S = 60


def service_entries(unit: Path) -> list[tuple[str, str]]:
    """The [Service] section's `Key=value` lines in order (Environment= repeats)."""
    entries: list[tuple[str, str]] = []
    section = ""
    for raw in unit.read_text("utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
        elif section == "[Service]":
            key, _, value = line.partition("=")
            entries.append((key, value))
    return entries


def owned_folder(owner: str | None) -> Path:
    """A 0700 folder under /tmp for the session user (pytest's own tmp is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="kiosk-cage-", dir="/tmp"))
    if owner is not None:
        shutil.chown(folder, user=owner)
    folder.chmod(0o700)
    return folder


@pytest.fixture(scope="module")
def session_user() -> str | None:
    return SESSION_USER if os.geteuid() == 0 else None


@pytest.fixture(scope="module")
def app_dir(session_user: str | None) -> Iterator[Path]:
    """The bundle folder, where the session user can run it (copied if it cannot reach it)."""
    why = bundle.not_ready()
    if why is not None:
        pytest.fail(f"{why}: `make test-bundle` builds it, then runs these tests", pytrace=False)
    for tool in ("cage", "Xwayland"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: `make deps` installs cage and xwayland", pytrace=False)
    runs = [str(bundle.EXECUTABLE), "--version"]
    if session_user is not None:
        runs = ["runuser", "-u", session_user, "--", *runs]
    if subprocess.run(runs, capture_output=True, check=False).returncode == 0:
        yield bundle.BUNDLE
        return
    copy = Path(tempfile.mkdtemp(prefix="kiosk-bundle-", dir="/tmp"))
    try:
        copy.chmod(0o755)
        shutil.copytree(bundle.BUNDLE, copy / "kiosk-app", symlinks=True)
        yield copy / "kiosk-app"
    finally:
        shutil.rmtree(copy)


def session_command(app_dir: Path, state: Path, cache: Path, runtime: Path) -> list[str]:
    """The unit's ExecStart with its Environment=, under `env -i` as systemd starts it clean."""
    entries = service_entries(UNIT)
    exec_start = [value for key, value in entries if key == "ExecStart"]
    assert len(exec_start) == 1

    def here(text: str) -> str:
        for real, test in ((APP_DIR, app_dir), (STATE_DIR, state), (CACHE_DIR, cache)):
            text = text.replace(real, str(test))
        return text

    environment = [here(value) for key, value in entries if key == "Environment"]
    assert "QT_QPA_PLATFORM=wayland" in environment
    headless = [
        # wlroots without a seat: no DRM, no input devices; software rendering.
        "WLR_BACKENDS=headless",
        "WLR_RENDERER=pixman",
        "WLR_LIBINPUT_NO_DEVICES=1",
        f"XDG_RUNTIME_DIR={runtime}",  # logind's /run/user/UID on a kiosk
        f"HOME={state}",
        "PATH=/usr/local/bin:/usr/bin:/bin",
        "LANG=C.UTF-8",
    ]
    command = [here(word) for word in shlex.split(exec_start[0])]
    assert command[:2] == ["/usr/bin/cage", "-d"]
    return ["/usr/bin/env", "-i", *headless, *environment, *command]


def kiosk_pids(executable: Path, state: Path) -> list[int]:
    """The kiosk processes started from `executable` on the data folder `state`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[0] == bytes(executable) and bytes(state) in argv:
            found.append(int(entry.name))
    return found


def test_the_session_runs_the_bundled_kiosk_in_cage_and_again_after_it_dies(
    app_dir: Path, session_user: str | None
) -> None:
    state, cache, runtime = (owned_folder(session_user) for _ in range(3))
    log = state / LOG_DIR_NAME / LOG_FILE_NAME
    executable = app_dir / "kiosk-app"
    command = session_command(app_dir, state, cache, runtime)
    if session_user is not None:
        command = ["runuser", "-u", session_user, "--", *command]
    errors = state.parent / f"{state.name}.cage.log"
    try:
        with errors.open("w+") as err:

            def start() -> subprocess.Popen[bytes]:
                return subprocess.Popen(command, stdout=err, stderr=subprocess.STDOUT)

            def shown(cage: subprocess.Popen[bytes], times: int) -> bool:
                if cage.poll() is not None:
                    err.seek(0)
                    pytest.fail(f"cage ended ({cage.returncode}): {err.read()[-3000:]}")
                text = log.read_text("utf-8") if log.is_file() else ""
                return text.count("kiosk services ready") >= times

            cage = start()
            try:
                wait_until(lambda: shown(cage, 1), timeout=WAIT_S, what="the kiosk in cage")
                (pid,) = kiosk_pids(executable, state)
                maps = Path(f"/proc/{pid}/maps").read_text("utf-8")
                assert "libqwayland" in maps  # a Wayland client of cage, not X11
                os.kill(pid, signal.SIGKILL)  # the kiosk dies: cage ends with it
                cage.wait(timeout=30)
            finally:
                if cage.poll() is None:
                    cage.kill()
                    cage.wait()

            cage = start()  # what systemd's Restart=always does, on the same folder
            try:
                wait_until(lambda: shown(cage, 2), timeout=WAIT_S, what="the restarted kiosk")
                (pid,) = kiosk_pids(executable, state)
                os.kill(pid, signal.SIGTERM)  # a clean stop: the kiosk logs out and closes
                cage.wait(timeout=30)
            finally:
                if cage.poll() is None:
                    cage.kill()
                    cage.wait()
        text = log.read_text("utf-8")
        assert text.count("screen shown: welcome") >= 2
        assert "kiosk stopped" in text
        assert not (state / "kiosk.db-wal").exists()  # closed whole after the clean stop
        # The unit's 0700 state directory stays the session user's alone.
        assert state.stat().st_mode & 0o077 == 0
    finally:
        for folder in (state, cache, runtime):
            shutil.rmtree(folder, ignore_errors=True)
        errors.unlink(missing_ok=True)
