"""The sync server stood up the way docs/operations.md tells an operator to, for real.

How the guide is kept from drifting: its install, backup, restore and health-check steps are
commands that run the scripts in installer/server/, and this test runs those same scripts
(not a copy of the guide's text) against a throwaway PostgreSQL cluster:

- install.sh creates the system user, the settings and database credentials, the roles and
  the database (through setup-postgres.sh), migrates, creates the first administrator with
  the password on standard input, and renders the units, the admin command and the nginx site;
- the server is started from the ExecStart= of the unit install.sh rendered, with the
  variables of its EnvironmentFile=, as its User= and Group=, in its WorkingDirectory= with its
  UMask=, and `systemd-analyze verify` judges that same file;
- nginx serves the rendered site on loopback with a certificate made here, and a kiosk's
  signed requests, a resumed pack download and the first administrator's sign-in go through it;
- backup.sh, restore.sh and healthcheck.sh run as the guide shows them, and the backup and
  health-check units' own ExecStart= lines run as rendered;
- install.sh run a second time is the upgrade the guide promises: passwords kept, the
  server still answering.

The guide's own text is checked against the scripts by test_operations_guide.py (options
its commands use, files it names, the unit's command line it quotes). Paths, ports and the
socket directory differ from a real host and are passed as the options the scripts document.

Not proven here: that systemd applies the unit's sandbox (this machine runs no systemd as PID
1), and install.sh's pip, `systemctl` and nginx-reload steps (run with --no-pip --no-start on
the project's own venv). When that venv's Python is out of the service user's reach (pyenv
under a 0700 /root), the user's processes get CAP_DAC_READ_SEARCH to load it; writes are still
checked against the user's own rights.
"""

from __future__ import annotations

import contextlib
import grp
import json
import os
import pwd
import re
import secrets
import shlex
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import psycopg
import pytest
from sqlalchemy.engine import make_url

from content_packs import age
from sync_server.api.limits import PATH_LIMITS
from sync_server.app import create_app
from sync_server.settings import Settings
from tests.support.deployment import (
    SYSTEMD_PATH,
    Nginx,
    Tls,
    UnitProcess,
    exec_start_argv,
    free_port,
    make_tls,
    needs_read_search,
    read_env_file,
    read_unit,
    wait_healthy,
)
from tests.support.device import TestDevice
from tests.support.postgres import PostgresCluster, PostgresNotFoundError, find_bin_dir
from tests.support.world import SAMPLE

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "installer" / "server"
GUIDE = REPO / "docs" / "operations.md"
VENV = Path(sys.prefix)
ADMIN = "first-admin"
SITE = "north-custody"
UNIT = "intervention-kiosk-server.service"
UNITS = [
    UNIT,
    "intervention-kiosk-server-healthcheck.service",
    "intervention-kiosk-server-healthcheck.timer",
    "intervention-kiosk-server-backup.service",
    "intervention-kiosk-server-backup.timer",
]
ADMIN_COMMAND = "intervention-kiosk-server-admin"
OS_ENV = {"PATH": f"{SYSTEMD_PATH}:/sbin:/bin", "LANG": "C.UTF-8"}


@dataclass
class Deployment:
    """One installation under `base`, with the options the guide's commands take."""

    base: Path
    cluster: PostgresCluster
    user: str
    admin_password: str
    tls: Tls
    app_port: int = 0
    http_port: int = 0
    https_port: int = 0
    read_search: bool = False

    def __post_init__(self) -> None:
        self.app_port, self.http_port, self.https_port = free_port(), free_port(), free_port()

    def path(self, name: str) -> Path:
        return self.base / name

    @property
    def pg_options(self) -> list[str]:
        return [
            *("--pg-host", str(self.cluster.socket_dir), "--pg-port", str(self.cluster.port)),
            *("--pg-superuser", "postgres", "--pg-os-user", "postgres"),
        ]

    def install_options(self) -> list[str]:
        return [
            *("--server-name", "localhost", "--admin", ADMIN, "--workers", "2"),
            *("--no-pip", "--no-start", "--venv", str(VENV), "--user", self.user),
            *("--prefix", str(self.path("opt")), "--etc-dir", str(self.path("etc"))),
            *("--data-dir", str(self.path("data")), "--backup-dir", str(self.path("backups"))),
            *("--sbin-dir", str(self.path("sbin")), "--systemd-dir", str(self.path("systemd"))),
            *("--nginx-dir", str(self.path("nginx")), "--nginx-log-dir", str(self.path("log"))),
            *("--tls-cert", str(self.tls.cert), "--tls-key", str(self.tls.key)),
            *("--listen-v4", "127.0.0.1", "--listen-v6", "[::1]"),
            *("--app-port", str(self.app_port), "--http-port", str(self.http_port)),
            *("--https-port", str(self.https_port)),
            *self.pg_options,
        ]

    def env(self) -> dict[str, str]:
        return read_env_file(self.path("etc") / "server.env")

    def https_url(self, path: str = "") -> str:
        return f"https://localhost:{self.https_port}{path}"

    def as_service_user(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        user = pwd.getpwnam(self.user)
        caps = ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
        prefix = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups"]
        return run([*prefix, *(caps if self.read_search else []), "--", *argv])

    def admin(self, *args: str) -> str:
        """intervention-kiosk-server-admin ARGS as the service user; its output."""
        result = self.as_service_user([str(self.path("sbin") / ADMIN_COMMAND), *args])
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout


def run(
    argv: list[str], *, input: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`argv` from /, in a plain environment (plus `env`), `input` on stdin (else nothing)."""
    return subprocess.run(
        argv,
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**OS_ENV, **(env or {})},
        cwd="/",
    )


def script(name: str, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return run([str(SCRIPTS / name), *args], input=input)


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    try:
        bin_dir = find_bin_dir()
    except PostgresNotFoundError as exc:
        pytest.fail(str(exc), pytrace=False)
    with PostgresCluster(bin_dir=bin_dir) as cluster:
        # As Debian's /var/run/postgresql: any local user may reach the socket.
        for directory in (cluster.base, cluster.socket_dir):
            directory.chmod(0o711)
        yield cluster


@pytest.fixture(scope="module")
def deployment(cluster: PostgresCluster) -> Iterator[Deployment]:
    if os.geteuid() != 0:
        pytest.fail("install.sh creates a system user: run the tests as root", pytrace=False)
    for tool in ("nginx", "curl", "setpriv", "age"):
        if shutil.which(tool) is None:
            pytest.fail(f"`{tool}` is missing: run `make deps` as root", pytrace=False)
    # Not pytest's tmp_path: that is 0700 root, and the service user must reach its files.
    base = Path(tempfile.mkdtemp(prefix="ik-server-", dir="/tmp"))
    base.chmod(0o755)
    user = f"iks-{secrets.token_hex(4)}"
    found = Deployment(
        base=base,
        cluster=cluster,
        user=user,
        admin_password=secrets.token_urlsafe(18),
        tls=make_tls(base / "tls"),
    )
    try:
        result = script("install.sh", *found.install_options(), input=f"{found.admin_password}\n")
        assert result.returncode == 0, result.stdout + result.stderr
        found.read_search = needs_read_search(user, VENV / "bin" / "sync-server")
        yield found
    finally:
        try:
            if subprocess.run(["id", "-u", user], capture_output=True, check=False).returncode == 0:
                subprocess.run(["userdel", user], check=True, capture_output=True)
        finally:
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def server(deployment: Deployment) -> Iterator[UnitProcess]:
    unit = UnitProcess(
        deployment.path("systemd") / UNIT,
        log=deployment.path("server.log"),
        read_search=deployment.read_search,
    )
    with unit:
        unit.start()
        wait_healthy(unit, f"http://127.0.0.1:{deployment.app_port}/health")
        yield unit


@pytest.fixture(scope="module")
def proxy(deployment: Deployment, server: UnitProcess) -> Iterator[Nginx]:
    nginx = Nginx(
        deployment.path("nginx") / "intervention-kiosk-server",
        deployment.path("nginx-run"),
        port=deployment.https_port,
    )
    checked = nginx.check()
    assert checked.returncode == 0, checked.stderr
    with nginx:
        nginx.start()
        yield nginx


@pytest.fixture
def https(deployment: Deployment, proxy: Nginx) -> Iterator[httpx2.Client]:
    with httpx2.Client(
        verify=deployment.tls.context(), base_url=deployment.https_url(), timeout=30.0
    ) as client:
        yield client


@pytest.fixture(scope="module")
def device(deployment: Deployment, proxy: Nginx) -> Iterator[TestDevice]:
    """A kiosk enrolled through the proxy with a code from the admin command, one participant
    registered."""
    deployment.admin("create-force", "north", "--name", "North Constabulary")
    deployment.admin("create-site", SITE, "--force", "north", "--name", "North custody")
    code = deployment.admin("enrolment-code", "--site", SITE).splitlines()[0]
    with httpx2.Client(verify=deployment.tls.context(), timeout=30.0) as http:
        kiosk = TestDevice(http, deployment.https_url())
        kiosk.enrol(code)
        results = kiosk.push_ok(kiosk.register().events)
        assert [r.status for r in results] == ["accepted"]
        yield kiosk


# --- installation ---------------------------------------------------------------------------


def _owner_and_mode(path: Path) -> tuple[str, str, int]:
    info = path.stat()
    owner = pwd.getpwuid(info.st_uid).pw_name
    return owner, grp.getgrgid(info.st_gid).gr_name, stat.S_IMODE(info.st_mode)


def test_install_keeps_secrets_from_everyone_but_root_and_the_service(
    deployment: Deployment,
) -> None:
    user = deployment.user
    assert _owner_and_mode(deployment.path("etc")) == ("root", user, 0o750)
    assert _owner_and_mode(deployment.path("etc") / "server.env") == ("root", user, 0o640)
    assert _owner_and_mode(deployment.path("etc") / "migrate.env") == ("root", "root", 0o600)
    assert _owner_and_mode(deployment.path("data")) == (user, user, 0o750)
    assert _owner_and_mode(deployment.path("backups")) == ("root", "root", 0o700)
    assert pwd.getpwnam(user).pw_shell == "/usr/sbin/nologin"
    written = [p for p in deployment.base.rglob("*") if p.is_file()]
    assert written
    for path in written:
        assert deployment.admin_password.encode() not in path.read_bytes(), path


def test_units_pass_systemd_analyze_verify(deployment: Deployment) -> None:
    units = [deployment.path("systemd") / name for name in UNITS]
    tool = shutil.which("systemd-analyze")
    if tool is None:
        if shutil.which("systemctl") or Path("/run/systemd/system").exists():
            pytest.fail("systemd is here but systemd-analyze is missing", pytrace=False)
        # No systemd at all: read the units instead (weaker: systemd's own parser is better).
        for path in units:
            unit = read_unit(path)
            assert unit.has_section("Unit"), path
            command = unit.get("Service", "ExecStart", fallback=None)
            assert command is None or Path(shlex.split(command)[0]).is_file(), path
        return
    result = run([tool, "verify", "--man=no", *map(str, units)])
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    # The server's sandbox scored by systemd (0 locked down, 10 open; the threshold is in
    # tenths): at most 2.0, "OK".
    scored = run([tool, "security", "--offline=true", "--threshold=20", str(units[0])])
    assert scored.returncode == 0, scored.stdout[-2000:] + scored.stderr


def test_the_servers_database_role_may_write_rows_but_not_the_schema(
    deployment: Deployment, cluster: PostgresCluster
) -> None:
    url = make_url(deployment.env()["SYNC_SERVER_DB"])
    assert url.username is not None
    with psycopg.connect(
        host=str(cluster.socket_dir),
        port=cluster.port,
        user=url.username,
        dbname=url.database,
        autocommit=True,
    ) as conn:
        row = conn.execute("SELECT role FROM staff_users WHERE username = %s", [ADMIN]).fetchone()
        assert row == ("admin",)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE intruder (id integer)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DROP TABLE staff_users")


def test_running_install_again_upgrades_in_place(
    deployment: Deployment, server: UnitProcess
) -> None:
    settings = (deployment.path("etc") / "server.env").read_bytes()
    options = deployment.install_options()
    del options[options.index("--admin") : options.index("--admin") + 2]
    again = script("install.sh", *options)
    assert again.returncode == 0, again.stdout + again.stderr
    # The database passwords are kept, the schema is at its head, the server still answers.
    assert (deployment.path("etc") / "server.env").read_bytes() == settings
    answer = httpx2.get(f"http://127.0.0.1:{deployment.app_port}/health", timeout=5.0)
    assert answer.status_code == 200
    port = options.index("--app-port") + 1
    options[port] = str(free_port())
    moved = script("install.sh", *options)
    assert moved.returncode == 1
    assert "differs from SYNC_SERVER_PORT" in moved.stderr


# --- the server as the unit runs it ---------------------------------------------------------


def test_the_unit_serves_health_with_the_database_reachable(
    deployment: Deployment, server: UnitProcess
) -> None:
    answer = httpx2.get(f"http://127.0.0.1:{deployment.app_port}/health", timeout=5.0)
    assert (answer.status_code, answer.json()) == (200, {"status": "ok", "database": "ok"})
    assert server.process is not None
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    uid = re.search(r"^Uid:\s+(\d+)", status, re.MULTILINE)
    assert uid is not None
    assert int(uid.group(1)) == pwd.getpwnam(deployment.user).pw_uid
    # The server made its escrow key at start-up: as its user, readable by nobody else.
    escrow = deployment.path("data") / "escrow.key"
    assert _owner_and_mode(escrow)[::2] == (deployment.user, 0o600)


def test_healthcheck_passes_through_the_proxy_and_fails_when_nothing_answers(
    deployment: Deployment, proxy: Nginx
) -> None:
    through = script(
        "healthcheck.sh",
        "--url",
        deployment.https_url("/health"),
        "--cacert",
        str(deployment.tls.ca),
    )
    assert through.returncode == 0, through.stderr
    nothing = script("healthcheck.sh", "--url", f"http://127.0.0.1:{free_port()}/health")
    assert nothing.returncode == 1
    assert "unhealthy: no answer" in nothing.stderr


# --- through nginx --------------------------------------------------------------------------


def test_plain_http_is_redirected_to_https(deployment: Deployment, proxy: Nginx) -> None:
    answer = httpx2.get(f"http://localhost:{deployment.http_port}/health?x=1", timeout=5.0)
    assert answer.status_code == 301
    assert answer.headers["location"] == deployment.https_url("/health?x=1")


def test_https_answers_health_with_hsts(https: httpx2.Client) -> None:
    answer = https.get("/health")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok", "database": "ok"})
    assert answer.headers["strict-transport-security"] == "max-age=63072000"


def test_the_first_admin_signs_in_through_the_proxy(
    deployment: Deployment, https: httpx2.Client
) -> None:
    form = https.get("/dashboard/login")
    assert form.status_code == 200
    token = https.cookies["__Host-ik-login"]
    signed_in = https.post(
        "/dashboard/login",
        data={"token": token, "username": ADMIN, "password": deployment.admin_password},
    )
    assert signed_in.status_code == 303, signed_in.text
    staff_page = https.get("/dashboard/staff")
    assert staff_page.status_code == 200
    assert ADMIN in staff_page.text


def test_signed_device_requests_pass_through_the_proxy(device: TestDevice) -> None:
    # The signature covers the https URL with its port: Host and X-Forwarded-Proto got through.
    participants = [c for c in device.pull_all() if c.kind == "participant"]
    assert len(participants) == 1


def test_a_pack_download_resumes_through_the_proxy(
    deployment: Deployment, device: TestDevice
) -> None:
    publisher = deployment.path("publisher")
    publisher.mkdir(mode=0o755)
    key = publisher / "publisher.key"
    keygen = run([str(VENV / "bin" / "content-pack"), "keygen", "-o", str(key)])
    assert keygen.returncode == 0, keygen.stderr
    recipient = deployment.admin("escrow-recipient").strip()
    pack = publisher / "sample.pack"
    built = run(
        [str(VENV / "bin" / "content-pack"), "build", str(SAMPLE), "-o", str(pack)]
        + ["--sign-key", str(key), "--recipient", recipient, "--no-narration"]
    )
    assert built.returncode == 0, built.stderr
    # As the guide says: the build is its owner's only; the service user must read it.
    for made in (pack, pack.with_name(pack.name + ".minisig")):
        made.chmod(0o644)
    deployment.admin("add-publisher", str(key.with_suffix(".pub")))
    published = deployment.admin("publish", str(pack))
    match = re.match(r"published (\S+) version (\d+)", published)
    assert match is not None, published
    path = f"/api/v1/packs/{match.group(1)}/{match.group(2)}"
    whole = device.send(device.signed("GET", path))
    assert whole.status_code == 200
    size = len(whole.content)
    assert size == int(whole.headers["content-length"]) > 50_000
    first, last = 100, 40_099
    part = device.send(
        device.signed(
            "GET",
            path,
            headers={"range": f"bytes={first}-{last}", "if-range": whole.headers["etag"]},
        )
    )
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes {first}-{last}/{size}"
    assert part.content == whole.content[first : last + 1]


def _limits() -> list[tuple[str, int]]:
    create_app(Settings(database_url="sqlite://"))  # the dashboard adds its upload limits
    return sorted(PATH_LIMITS.items())


def _raw_post(deployment: Deployment, path: str, length: int, body: bytes) -> tuple[int, bytes]:
    """POST with Content-Length `length` and `body` (maybe less); the status and body."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: localhost:{deployment.https_port}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {length}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    context: ssl.SSLContext = deployment.tls.context()
    answer = b""
    with (
        socket.create_connection(("127.0.0.1", deployment.https_port), timeout=30) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        # Answered (and closed) before the whole body was read: read the answer all the same.
        with contextlib.suppress(OSError):
            tls.sendall(head + body)
        while chunk := tls.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize(("path", "limit"), _limits())
def test_body_limits_are_the_servers_not_the_proxys(
    deployment: Deployment, proxy: Nginx, path: str, limit: int
) -> None:
    # Up to a few MB the whole body is sent; a bigger one must stream to the server unbuffered,
    # so the server refuses it from its Content-Length alone.
    body = b"x" * (limit + 1) if limit < 4 << 20 else b""
    status, answer = _raw_post(deployment, path, limit + 1, body)
    assert status == 413
    assert json.loads(answer)["error"] == "batch_too_large", answer[:300]


def test_the_access_log_leaves_out_query_strings(
    deployment: Deployment, https: httpx2.Client
) -> None:
    marker = f"Surname{secrets.token_hex(4)}"
    assert https.get("/dashboard/login", params={"q": marker}).status_code == 200
    log = (deployment.path("log") / "intervention-kiosk-server.access.log").read_text()
    assert '"GET /dashboard/login HTTP/1.1" 200' in log
    assert marker not in log


# --- backup and restore ---------------------------------------------------------------------


def _count(cluster: PostgresCluster, database: str, table: str) -> int:
    with cluster.connect(database) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        return int(str(row[0]))


def test_a_backup_restores_into_a_second_database(
    deployment: Deployment, cluster: PostgresCluster, device: TestDevice
) -> None:
    database = make_url(deployment.env()["SYNC_SERVER_DB"]).database
    assert database is not None
    identity = age.X25519Identity.generate()
    key_file = deployment.path("backup-key.txt")
    key_file.touch(mode=0o600)
    key_file.write_text(identity.to_str() + "\n")
    where = [
        *("--db-name", database, "--data-dir", str(deployment.path("data"))),
        *deployment.pg_options,
    ]
    refused = script("backup.sh", *where, "--backup-dir", str(deployment.path("backups")))
    assert refused.returncode == 1
    assert "personal data" in refused.stderr
    made = script(
        "backup.sh",
        *where,
        *("--backup-dir", str(deployment.path("backups"))),
        *("--recipient", identity.recipient.to_str(), "--keep-days", "35"),
    )
    assert made.returncode == 0, made.stderr
    wrote = re.search(r"wrote (\S+\.tar\.age) ", made.stdout)
    assert wrote is not None, made.stdout
    backup = Path(wrote.group(1))
    assert backup.parent == deployment.path("backups")
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert backup.read_bytes().startswith(b"age-encryption.org/v1\n")

    restored_data = deployment.path("restored-data")
    into = [
        *("--from", str(backup), "--identity", str(key_file), "--db-name", "restored"),
        *("--data-dir", str(restored_data), "--user", deployment.user, *deployment.pg_options),
    ]
    restored = script("restore.sh", *into)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    for table in ("participants", "staff_users", "devices", "packs", "audit_log"):
        assert _count(cluster, "restored", table) == _count(cluster, database, table), table
    assert _count(cluster, "restored", "participants") == 1
    for name in ("escrow.key", "certificate-signing.key"):
        original = deployment.path("data") / name
        if original.exists():
            assert (restored_data / name).read_bytes() == original.read_bytes(), name
    assert (restored_data / "escrow.key").exists()
    assert _owner_and_mode(restored_data)[0] == deployment.user
    # The server's role has its rights on the restored database: it can issue a code there.
    app_url = make_url(deployment.env()["SYNC_SERVER_DB"]).set(database="restored")
    issued = run(
        [str(VENV / "bin" / "sync-server"), "enrolment-code", "--site", SITE],
        env={
            "SYNC_SERVER_DB": app_url.render_as_string(hide_password=False),
            "SYNC_SERVER_DATA_DIR": str(restored_data),
        },
    )
    assert issued.returncode == 0, issued.stderr
    again = script("restore.sh", *into)
    assert again.returncode == 1
    assert "not empty" in again.stderr


@pytest.mark.parametrize(
    "unit",
    ["intervention-kiosk-server-backup.service", "intervention-kiosk-server-healthcheck.service"],
)
def test_the_timers_services_run_their_command(
    deployment: Deployment, server: UnitProcess, unit: str
) -> None:
    # Both run as root (DynamicUser= is a throwaway user with no rights anyway); the backup
    # needs its recipients file, as the guide says.
    recipient = age.X25519Identity.generate().recipient.to_str()
    (deployment.path("etc") / "backup-recipients.txt").write_text(recipient + "\n")
    command = read_unit(deployment.path("systemd") / unit)["Service"]["ExecStart"]
    result = run(exec_start_argv(command, {}))
    assert result.returncode == 0, result.stdout + result.stderr
