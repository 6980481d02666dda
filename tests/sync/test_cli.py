"""`kiosk-app enrol --server URL --code CODE [--data-dir DIR]` against a live server."""

from __future__ import annotations

import secrets
from pathlib import Path

from click.testing import CliRunner

from kiosk_app.store import keys, repos
from kiosk_app.store.db import open_store
from kiosk_app.sync.cli import enrol
from tests.support.live_server import LiveServer
from tests.support.world import PROGRAMME_ID, World


def _key_file(data_dir: Path) -> keys.FileKeyStore:
    data_dir.mkdir(parents=True)
    store = keys.FileKeyStore(data_dir / keys.KEY_FILE_NAME)
    store.save(secrets.token_bytes(keys.KEY_BYTES))  # so the command never picks the keyring
    return store


def test_enrol_command_provisions_the_kiosk_and_reports_the_first_sync(
    server: LiveServer, world: World, tmp_path: Path
) -> None:
    data_dir = tmp_path / "kiosk"
    key_store = _key_file(data_dir)
    code = world.code()
    result = CliRunner().invoke(
        enrol, ["--server", server.url, "--code", code, "--data-dir", str(data_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "enrolled: device " in result.output
    assert "force: North Constabulary; site: North-Custody" in result.output
    assert f"installed: {PROGRAMME_ID} v1" in result.output
    assert code not in result.output
    with open_store(data_dir, key_store=key_store) as store, store.unit() as s:
        assert repos.device(s).server_url == server.url

    again = CliRunner().invoke(
        enrol, ["--server", server.url, "--code", world.code(), "--data-dir", str(data_dir)]
    )
    assert again.exit_code == 1
    assert "already enrolled" in again.output


def test_enrol_command_refuses_plain_http_off_this_machine_and_spent_codes(
    server: LiveServer, world: World, tmp_path: Path
) -> None:
    data_dir = tmp_path / "kiosk"
    _key_file(data_dir)
    insecure = CliRunner().invoke(
        enrol,
        ["--server", "http://sync.example.org", "--code", "ABCD-EFGH", "--data-dir", str(data_dir)],
    )
    assert insecure.exit_code == 1
    assert "https://" in insecure.output
    wrong = CliRunner().invoke(
        enrol, ["--server", server.url, "--code", "WRONG-CODE-1", "--data-dir", str(data_dir)]
    )
    assert wrong.exit_code == 1
    assert "enrolment_code_invalid" in wrong.output
