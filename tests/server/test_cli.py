"""The `sync-server` command as an operator runs it: real processes on a SQLite data dir."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.world import SAMPLE

PASSWORD = "a long enough passphrase"
CODE = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_SERVER_")}
    env["SYNC_SERVER_DATA_DIR"] = str(tmp_path / "data")
    return env


@pytest.fixture
def run(env: dict[str, str], tmp_path: Path) -> Run:
    def run(
        *args: str, input: str | None = None, module: str = "sync_server"
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", module, *args],
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )

    return run


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir migrated once per module: migrating costs more than a copy."""
    data = tmp_path_factory.mktemp("cli-template") / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNC_SERVER_")}
    env["SYNC_SERVER_DATA_DIR"] = str(data)
    subprocess.run(
        [sys.executable, "-m", "sync_server", "migrate"], env=env, check=True, capture_output=True
    )
    return data


@pytest.fixture
def migrated(run: Run, env: dict[str, str], migrated_template: Path) -> Run:
    shutil.copytree(migrated_template, env["SYNC_SERVER_DATA_DIR"])
    return run


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def one_line_error(result: subprocess.CompletedProcess[str], contains: str) -> None:
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sync-server: error: ")
    assert contains in lines[0]


def test_full_flow_from_empty_data_dir_to_a_published_pack(
    run: Run, env: dict[str, str], tmp_path: Path
) -> None:
    assert "database at revision" in ok(run("migrate"))
    assert (tmp_path / "data" / "server.sqlite3").is_file()
    assert ok(run("create-force", "north", "--name", "North Constabulary")) == (
        "created force north\n"
    )
    ok(run("create-site", "north-custody", "--force", "north", "--name", "Custody suite"))

    # The password travels on stdin only: never in the process's argv.
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sync_server",
            "create-staff",
            "sgt.lee",
            "--role",
            "supervisor",
            "--force",
            "north",
            "--name",
            "Sgt Lee",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
    out, err = process.communicate(PASSWORD + "\n", timeout=120)
    assert process.returncode == 0, err
    assert PASSWORD.encode() not in cmdline
    assert PASSWORD not in out + err
    assert "created supervisor sgt.lee in force north" in out
    with sqlite3.connect(tmp_path / "data" / "server.sqlite3") as db:
        (stored,) = db.execute("SELECT password_hash FROM staff_users").fetchone()
    assert stored.startswith("$argon2id$")

    issued = run("enrolment-code", "--site", "north-custody", "--created-by", "sgt.lee")
    code, expiry = ok(issued).splitlines()
    assert CODE.fullmatch(code)
    assert expiry.startswith("single use; expires ")
    assert code not in issued.stderr

    recipient = ok(run("escrow-recipient")).strip()
    assert recipient.startswith("age1")
    assert ok(run("escrow-recipient")).strip() == recipient

    ok(run("keygen", "-o", str(tmp_path / "publisher.key"), module="content_packs"))
    pack_path = tmp_path / "alcohol-and-you-1.pack"
    ok(
        run(
            "build",
            str(SAMPLE),
            "-o",
            str(pack_path),
            "--sign-key",
            str(tmp_path / "publisher.key"),
            "--recipient",
            recipient,
            module="content_packs",
        )
    )
    assert "trusted publisher key" in ok(run("add-publisher", str(tmp_path / "publisher.pub")))
    signature = str(pack_path) + ".minisig"
    published = ok(run("publish", str(pack_path), "--signature", signature))
    assert published == "published alcohol-and-you version 1 to north\n"
    assert (tmp_path / "data" / "packs" / "alcohol-and-you-1.pack").is_file()

    again = run("publish", str(pack_path), "--signature", signature)
    one_line_error(again, "alcohol-and-you version 1 is already published")


def test_commands_refuse_an_unmigrated_database(run: Run) -> None:
    one_line_error(
        run("create-force", "north", "--name", "North"),
        "database not migrated; run sync-server migrate",
    )


@pytest.mark.parametrize(
    "extra",
    [["correct horse battery"], ["--password", "correct horse battery"]],
    ids=["argument", "option"],
)
def test_a_password_on_the_command_line_is_rejected(migrated: Run, extra: list[str]) -> None:
    result = migrated("create-staff", "root", "--role", "admin", *extra, input=PASSWORD + "\n")
    assert result.returncode != 0
    assert "created" not in result.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["create-site", "s1", "--force", "west", "--name", "S"], "", "unknown force 'west'"),
        (["create-force", "North Force", "--name", "N"], "", "invalid force id"),
        (["create-staff", "root", "--role", "admin"], "short\n", "at least 12 characters"),
        (["create-staff", "root", "--role", "admin"], "", "no password on standard input"),
        (["create-staff", "pc.x", "--role", "officer"], PASSWORD + "\n", "needs a force"),
        (["enrolment-code", "--site", "nowhere"], "", "unknown site 'nowhere'"),
        (["publish", "missing.pack", "--signature", "missing.minisig"], "", "missing.minisig"),
        (["add-publisher", "missing.pub"], "", "missing.pub"),
        (["set-password", "nobody"], PASSWORD + "\n", "no staff user 'nobody'"),
        (["set-password", "nobody"], "short\n", "at least 12 characters"),
    ],
)
def test_errors_are_one_line(migrated: Run, args: list[str], stdin: str, message: str) -> None:
    one_line_error(migrated(*args, input=stdin), message)


def test_a_forgotten_password_is_replaced_on_the_command_line(
    migrated: Run, env: dict[str, str]
) -> None:
    ok(migrated("create-force", "north", "--name", "North"))
    ok(migrated("create-staff", "sgt.lee", "--role", "supervisor", "--force", "north",
                input=PASSWORD + "\n"))  # fmt: skip
    database = Path(env["SYNC_SERVER_DATA_DIR"]) / "server.sqlite3"
    with sqlite3.connect(database) as db:
        db.execute("UPDATE staff_users SET failed_logins = 9")
        (before,) = db.execute("SELECT password_hash FROM staff_users").fetchone()
    new_password = "a brand new passphrase 7"
    result = migrated("set-password", "sgt.lee", input=new_password + "\n")
    assert ok(result) == "new password set for sgt.lee; signed out everywhere\n"
    assert new_password not in result.stdout + result.stderr
    with sqlite3.connect(database) as db:
        hash_, failures = db.execute(
            "SELECT password_hash, failed_logins FROM staff_users"
        ).fetchone()
        audit = db.execute("SELECT action, actor FROM audit_log ORDER BY id DESC").fetchone()
        kiosks_told = db.execute("SELECT count(*) FROM changes WHERE kind = 'officer'").fetchone()
    assert hash_ != before
    assert hash_.startswith("$argon2id$")
    assert failures == 0
    assert audit == ("staff.password_set", "cli")
    assert kiosks_told == (2,)  # created, then the new password


def test_db_option_overrides_the_data_dir_database(run: Run, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"
    ok(run("migrate", "--db", url))
    ok(run("create-force", "north", "--name", "North", "--db", url))
    assert (tmp_path / "elsewhere.sqlite3").is_file()
    assert not (tmp_path / "data" / "server.sqlite3").exists()


def test_help_lists_every_command(run: Run) -> None:
    out = ok(run("--help"))
    for command in [
        "serve",
        "migrate",
        "create-force",
        "create-site",
        "create-staff",
        "enrolment-code",
        "publish",
        "retire",
        "escrow-recipient",
        "add-publisher",
        "set-password",
    ]:
        assert command in out
