"""A throwaway PostgreSQL cluster for tests: initdb, a private Unix socket, gone on exit."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

import psycopg
from psycopg import sql

# Peer of the project's other "tool missing" failures: name the Debian package.
MISSING_MESSAGE = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or under "
    "/usr/lib/postgresql/*/bin; install the Debian package `postgresql`"
)
# Only durability is traded away: a test cluster never outlives the test run.
SERVER_OPTIONS = (
    "-c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
)
OS_USER = "postgres"
START_TIMEOUT_SECONDS = 30


class PostgresNotFoundError(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


class PostgresStartError(RuntimeError):
    """initdb or pg_ctl failed; the message carries the command output and server log."""


def _version_key(bin_dir: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", bin_dir.parent.name)) or (0,)


def find_bin_dir() -> Path:
    """The directory holding initdb and pg_ctl: PATH first, else the newest Debian install."""
    on_path = [shutil.which(tool) for tool in ("initdb", "pg_ctl")]
    if all(on_path):
        # pg_ctl runs the `postgres` next to its real file, so follow the symlink.
        return Path(str(on_path[1])).resolve().parent
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    for bin_dir in installed:
        if (bin_dir / "initdb").is_file() and (bin_dir / "pg_ctl").is_file():
            return bin_dir
    raise PostgresNotFoundError(MISSING_MESSAGE)


def _free_port() -> int:
    # The socket file lives in a private directory, so the port only names it; a free
    # TCP port still keeps the name unique should anyone else share the directory.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresCluster:
    """A private cluster under a temporary directory, reachable only over a Unix socket.

    Root cannot run the server, so as root the cluster belongs to the `postgres`
    OS user and every server command goes through `runuser`.
    """

    def __init__(self, *, bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir or find_bin_dir()
        self.port = _free_port()
        self._base: Path | None = None

    @property
    def base(self) -> Path:
        if self._base is None:
            raise RuntimeError("the cluster is not running; use it as a context manager")
        return self._base

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base / "sock"

    @property
    def log_file(self) -> Path:
        return self.base / "server.log"

    def _as_owner(self, *argv: str | Path) -> list[str]:
        command = [str(arg) for arg in argv]
        if os.geteuid() == 0:
            return ["runuser", "-u", OS_USER, "--", *command]
        return command

    def _run(self, *argv: str | Path) -> None:
        result = subprocess.run(
            self._as_owner(*argv),
            cwd=self.base,
            capture_output=True,
            text=True,
            check=False,
            timeout=START_TIMEOUT_SECONDS * 2,
        )
        if result.returncode != 0:
            raise PostgresStartError(
                f"{Path(str(argv[0])).name} failed with exit code {result.returncode}\n"
                f"{result.stdout}{result.stderr}\n{self.log_tail()}"
            )

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "server log (tail):\n" + "\n".join(text.splitlines()[-lines:])

    def start(self) -> None:
        # Short base path: a Unix socket path must fit in 107 bytes.
        self._base = Path(tempfile.mkdtemp(prefix="pgtest-", dir="/tmp"))
        self.socket_dir.mkdir(mode=0o700)
        if os.geteuid() == 0:
            for path in (self.base, self.socket_dir):
                shutil.chown(path, user=OS_USER, group=OS_USER)
        try:
            self._run(
                self.bin_dir / "initdb",
                "-D",
                self.data_dir,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            )
            self._run(
                self.bin_dir / "pg_ctl",
                "-D",
                self.data_dir,
                "-l",
                self.log_file,
                "-o",
                f"-k {self.socket_dir} -p {self.port} {SERVER_OPTIONS}",
                "-w",
                "-t",
                str(START_TIMEOUT_SECONDS),
                "start",
            )
        except BaseException:
            self._remove()
            raise

    def stop(self) -> None:
        if self._base is None:
            return
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._run(self.bin_dir / "pg_ctl", "-D", self.data_dir, "-m", "immediate", "stop")
        finally:
            self._remove()

    def _remove(self) -> None:
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)
            self._base = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def url(self, name: str) -> str:
        """The SQLAlchemy URL of database `name` over the cluster's socket."""
        return f"postgresql+psycopg://postgres@/{name}?host={self.socket_dir}&port={self.port}"

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user="postgres",
            dbname=dbname,
            autocommit=True,
        )

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create database `name` (a copy of `template` if given) and return its URL."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
        with self.connect() as conn:
            conn.execute(statement)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop database `name` if it exists, disconnecting anyone still using it."""
        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        with self.connect() as conn:
            conn.execute(statement)
