"""Reading what installer/server/install.sh wrote, and running it: units, env files, nginx, TLS."""

from __future__ import annotations

import configparser
import contextlib
import grp
import ipaddress
import os
import pwd
import re
import shlex
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import httpx2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0
# What systemd gives every service before its EnvironmentFile= (systemd.exec(5),
# "Environment variables in spawned processes"), for a unit with User= set.
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"
_ENV_LINE = re.compile(r'^([A-Za-z_][A-Za-z0-9_]*)="([^"$`\\]*)"$')
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def read_unit(path: Path) -> configparser.RawConfigParser:
    """A unit file's sections and keys (a repeated key keeps its last value)."""
    unit = configparser.RawConfigParser(strict=False, delimiters=("=",), comment_prefixes=("#",))
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(path.read_text(encoding="utf-8"))
    return unit


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of an EnvironmentFile= written by install.sh.

    Only `KEY="value"` lines with no `$`, backquote, backslash or quote in the value are
    accepted: for those, systemd, the shell (`set -a; . FILE`) and this reader agree.
    """
    variables: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if match is None:
            raise ValueError(f'{path}:{number}: not a plain KEY="value" line')
        variables[match.group(1)] = match.group(2)
    return variables


def exec_start_argv(command_line: str, environment: dict[str, str]) -> list[str]:
    """ExecStart= split into words with each `${NAME}` replaced, as systemd does."""
    words = shlex.split(command_line)
    if words and words[0][:1] in "@-:+!":
        raise ValueError(f"ExecStart prefixes are not supported here: {words[0]}")

    def value(match: re.Match[str]) -> str:
        return environment[match.group(1)]

    expanded = [_VARIABLE.sub(value, word) for word in words]
    if any("$" in word for word in expanded):
        raise ValueError(f"an unexpanded variable is left in ExecStart: {expanded}")
    return expanded


@dataclass(frozen=True)
class Tls:
    """A private CA and a certificate it issued for localhost and 127.0.0.1."""

    ca: Path
    cert: Path
    key: Path

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))


def make_tls(directory: Path) -> Tls:
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Deployment test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    tls = Tls(ca=directory / "ca.pem", cert=directory / "fullchain.pem", key=directory / "key.pem")
    tls.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tls.cert.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    tls.key.touch(mode=0o600)
    tls.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return tls


def _wait(
    condition: Callable[[], bool], *, what: str, process: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not condition():
        if process.poll() is not None:
            raise RuntimeError(
                f"{what} exited with {process.returncode}:\n{log.read_text(errors='replace')}"
            )
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready in {START_TIMEOUT_SECONDS:.0f} s")
        time.sleep(0.1)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


class _Process:
    """A child process in its own session, stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, argv: list[str], *, log: Path, what: str, **popen: object) -> None:
        self.argv = argv
        self.log = log
        self.what = what
        self._popen = popen
        self._log_file: IO[bytes] | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(  # type: ignore[call-overload]
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **self._popen,
        )

    def wait_until(self, condition: Callable[[], bool]) -> None:
        assert self.process is not None
        _wait(condition, what=self.what, process=self.process, log=self.log)

    def stop(self) -> None:
        """SIGTERM to the whole group (uvicorn's workers too), SIGKILL to what outlives it."""
        if self.process is not None:
            group = self.process.pid
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
            while _group_alive(group) and time.monotonic() < deadline:
                self.process.poll()  # reap the leader, or it stays a zombie in the group
                time.sleep(0.05)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT_SECONDS)
        if self._log_file is not None:
            self._log_file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class UnitProcess(_Process):
    """A service unit's ExecStart= run as systemd would: its User= and Group=, its
    EnvironmentFile= on top of systemd's base environment, WorkingDirectory= and UMask=.

    `read_search` also gives the process CAP_DAC_READ_SEARCH (and nothing else), for a
    machine whose Python lives where the service user cannot read it (pyenv under a 0700
    /root); writes are still checked against the user's own rights.
    """

    def __init__(self, unit_path: Path, *, log: Path, read_search: bool) -> None:
        unit = read_unit(unit_path)
        service = unit["Service"]
        user = pwd.getpwnam(service["User"])
        group = grp.getgrnam(service.get("Group", service["User"]))
        environment = {
            "PATH": SYSTEMD_PATH,
            "LANG": "C.UTF-8",
            "HOME": user.pw_dir,
            "LOGNAME": user.pw_name,
            "USER": user.pw_name,
            "SHELL": user.pw_shell,
            **read_env_file(Path(service["EnvironmentFile"])),
        }
        self.environment = environment
        self.user = user
        argv = exec_start_argv(service["ExecStart"], environment)
        caps = ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
        prefix = [
            "setpriv",
            f"--reuid={user.pw_uid}",
            f"--regid={group.gr_gid}",
            "--init-groups",
            *(caps if read_search else []),
            "--",
        ]
        super().__init__(
            [*prefix, *argv],
            log=log,
            what=f"{unit_path.name} ({argv[0]})",
            env=environment,
            cwd=service.get("WorkingDirectory", "/"),
            umask=int(service.get("UMask", "0022"), 8),
        )


def needs_read_search(user: str, program: Path) -> bool:
    """Whether `user` cannot run `program` (its interpreter unreadable to them)."""
    probe = subprocess.run(
        ["runuser", "-u", user, "--", str(program), "--version"],
        capture_output=True,
        check=False,
        cwd="/",
        timeout=60,
    )
    return probe.returncode != 0


NGINX_MAIN = """\
user www-data;
worker_processes 1;
daemon off;
pid {run}/nginx.pid;
error_log {run}/error.log info;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {run}/client_body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    include {site};
}}
"""


class Nginx(_Process):
    """nginx running one site file inside a minimal main configuration (Debian's nginx.conf
    holds only global defaults; the site is what the project ships)."""

    def __init__(self, site: Path, run_dir: Path, *, port: int) -> None:
        run_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
        self.conf = run_dir / "nginx.conf"
        self.conf.write_text(NGINX_MAIN.format(run=run_dir, site=site), encoding="utf-8")
        self.port = port
        self.run_dir = run_dir
        argv = ["nginx", "-p", str(run_dir), "-c", str(self.conf), "-e", str(run_dir / "error.log")]
        super().__init__(argv, log=run_dir / "stdout.log", what="nginx")

    def check(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.argv, "-t"], capture_output=True, text=True, check=False, timeout=60
        )

    def start(self) -> None:
        super().start()

        def listening() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                return False

        self.wait_until(listening)


def wait_healthy(server: _Process, url: str) -> dict[str, object]:
    """Poll `url` until it answers 200; its JSON."""
    answer: dict[str, object] = {}

    def healthy() -> bool:
        try:
            response = httpx2.get(url, timeout=2.0)
        except httpx2.TransportError:
            return False
        if response.status_code != 200:
            return False
        answer.update(response.json())
        return True

    server.wait_until(healthy)
    return answer
