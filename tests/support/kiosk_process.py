"""The real kiosk as a child process (`python -m kiosk_app --data-dir DATA`), followed
through its log file, stopped with SIGTERM as systemd stops it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from kiosk_app.app import LOG_DIR_NAME, LOG_FILE_NAME

REPO = Path(__file__).resolve().parents[2]


class KioskProcess:
    """A running kiosk on `data`; `wait_for` a log line, then `stop()` it (also on exit)."""

    def __init__(self, data: Path, env: dict[str, str]) -> None:
        self.env = env
        self.log = data / LOG_DIR_NAME / LOG_FILE_NAME
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kiosk_app", "--data-dir", str(data)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._seen = 0

    def wait_for(self, line: str, timeout: float = 30) -> None:
        """Wait until the kiosk logs `line` after what was already waited for."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log.read_text("utf-8") if self.log.is_file() else ""
            found = text.find(line, self._seen)
            if found >= 0:
                self._seen = found + len(line)
                return
            if self.process.poll() is not None:
                _, err = self.process.communicate()
                raise AssertionError(f"the kiosk stopped before {line!r}: {err.decode()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the kiosk logged no {line!r} in {timeout:.0f} s")
            time.sleep(0.05)

    def stop(self) -> tuple[int, str]:
        """SIGTERM, then wait: the exit status and what the kiosk wrote on stderr."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            _, err = self.process.communicate(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        return self.process.returncode, err.decode() if err else ""

    def __enter__(self) -> KioskProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.stop()
