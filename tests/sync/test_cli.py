"""`kiosk-app enrol --server URL --code CODE [--data-dir DIR]` against a live server."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from kiosk_app.cli import main
from kiosk_app.store import keys, repos
from kiosk_app.store.db import open_store
from tests.support.live_server import LiveServer
from tests.support.world import PROGRAMME_ID, World


def _key_file(data_dir: Path) -> keys.FileKeyStore:
    data_dir.mkdir(parents=True)
    store = keys.FileKeyStore(data_dir / keys.KEY_FILE_NAME)
    store.save(secrets.token_bytes(keys.KEY_BYTES))  # so the command never picks the keyring
    return store


def _enrol(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`kiosk-app enrol ARGS` in this process: its exit status and what it printed."""
    code = main(["enrol", *args])
    out, err = capsys.readouterr()
    return code, out + err


def test_enrol_command_provisions_the_kiosk_and_reports_the_first_sync(
    server: LiveServer, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "kiosk"
    key_store = _key_file(data_dir)
    code = world.code()
    status, output = _enrol(
        capsys, "--server", server.url, "--code", code, "--data-dir", str(data_dir)
    )
    assert status == 0, output
    assert "enrolled: device " in output
    assert "force: North Constabulary; site: North-Custody" in output
    assert f"installed: {PROGRAMME_ID} v1" in output
    assert code not in output
    with open_store(data_dir, key_store=key_store) as store, store.unit() as s:
        assert repos.device(s).server_url == server.url

    status, output = _enrol(
        capsys, "--server", server.url, "--code", world.code(), "--data-dir", str(data_dir)
    )
    assert status == 1
    assert "already enrolled" in output


def test_enrol_command_refuses_plain_http_off_this_machine_and_spent_codes(
    server: LiveServer, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "kiosk"
    _key_file(data_dir)
    status, output = _enrol(
        capsys, "--server", "http://sync.example.org", "--code", "ABCD-EFGH",
        "--data-dir", str(data_dir),
    )  # fmt: skip
    assert status == 1
    assert "https://" in output
    status, output = _enrol(
        capsys, "--server", server.url, "--code", "WRONG-CODE-1", "--data-dir", str(data_dir)
    )
    assert status == 1
    assert "enrolment_code_invalid" in output
