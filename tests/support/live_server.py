"""Real uvicorn servers on loopback: in a thread, or as a process a test can SIGKILL."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import httpx
import uvicorn
from fastapi import FastAPI

from sync_server.settings import Settings

START_TIMEOUT_SECONDS = 15.0
STOP_TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 0.02


def listening_socket() -> socket.socket:
    """A loopback socket already listening on a free port: no race for the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll `condition` until it holds; raise TimeoutError naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(POLL_SECONDS)


class LiveServer:
    """Serve `app` with uvicorn in a background thread on 127.0.0.1, for one test."""

    def __init__(self, app: FastAPI) -> None:
        self._sock = listening_socket()
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_level="warning",
                lifespan="on",
                timeout_graceful_shutdown=int(STOP_TIMEOUT_SECONDS / 2),
            )
        )
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name=f"uvicorn-{self.port}",
            daemon=True,
        )

    def start(self) -> None:
        self._thread.start()

        def started() -> bool:
            if not self._thread.is_alive() and not self._server.started:
                raise RuntimeError("uvicorn stopped during startup (see the captured log)")
            return self._server.started

        wait_until(started, timeout=START_TIMEOUT_SECONDS, what=f"uvicorn on {self.url}")

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(STOP_TIMEOUT_SECONDS)
        self._sock.close()
        if self._thread.is_alive():
            raise RuntimeError(f"uvicorn on {self.url} did not stop in {STOP_TIMEOUT_SECONDS} s")

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# The child inherits the listening socket, so a restarted server keeps the same URL and
# connections made while it is down wait in the backlog instead of being refused.
_CHILD = """\
import socket, sys
from pathlib import Path
import uvicorn
from sync_server.app import create_worker_app
from sync_server.settings import Settings

fd, database_url, data_dir = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
app = create_worker_app(Settings(database_url=database_url, data_dir=data_dir))
server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
server.run(sockets=[socket.socket(fileno=fd)])
"""


class ServerProcess:
    """The server as a separate OS process on an already-migrated database.

    `kill()` is a SIGKILL (a crash: no shutdown code runs); `start()` again restarts
    it on the same database and the same URL.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._sock = listening_socket()
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._log_dir = Path(tempfile.mkdtemp(prefix="server-process-"))
        self._log: IO[bytes] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self._log_dir / "server.log"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the server process is not running")
        return self._process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "server log (tail):\n" + "\n".join(text.splitlines()[-lines:])

    def start(self) -> None:
        if self._process is not None and self._process.poll() is None:
            raise RuntimeError("the server process is already running")
        self._close_log()
        self._log = self.log_path.open("ab")
        self.starts += 1
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _CHILD,
                str(self._sock.fileno()),
                self.settings.database_url,
                str(self.settings.data_dir),
            ],
            pass_fds=[self._sock.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.wait_healthy()

    def wait_healthy(self) -> None:
        """Wait until /health answers 200; fail with the log if the process dies first."""
        process = self._process
        if process is None:
            raise RuntimeError("the server process was never started")

        def healthy() -> bool:
            if process.poll() is not None:
                raise RuntimeError(
                    f"the server process exited with {process.returncode}\n{self.log_tail()}"
                )
            try:
                return httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200
            except httpx.TransportError:
                return False

        try:
            wait_until(healthy, timeout=START_TIMEOUT_SECONDS, what=f"{self.url}/health")
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}\n{self.log_tail()}") from None

    def kill(self) -> None:
        """SIGKILL the server, as a power cut or OOM kill would, and reap it."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(STOP_TIMEOUT_SECONDS)

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), killing the process if it does not exit in time."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError(
                f"the server process ignored SIGTERM for {STOP_TIMEOUT_SECONDS} s"
            ) from None

    def restart(self) -> None:
        self.stop()
        self.start()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def close(self) -> None:
        try:
            self.stop()
        finally:
            self._close_log()
            self._sock.close()
            self._process = None
            shutil.rmtree(self._log_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
