"""The kiosk's composition root: one data folder holds everything; logs name no one."""

from __future__ import annotations

import logging
import logging.handlers
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from content_packs import authoring, model
from kiosk_app import app as kiosk_app_module
from kiosk_app.app import (
    KeyStoreChoice,
    KioskSetupError,
    configure_early_logging,
    configure_logging,
    key_store_for,
    open_kiosk,
    rotate_logs,
)
from kiosk_app.core.clock import ManualClock
from kiosk_app.store import keys
from kiosk_app.store.db import DB_FILE_NAME
from kiosk_app.store.models import JournalEvent
from tests.support.kiosk import (
    FAST_HASHER,
    SAMPLE,
    START,
    TEMPORARY_PIN,
    register,
    settle_first_login,
)

CODE = "QRS-00042"
NAME = "Philomena"


@pytest.fixture(scope="module")
def programme() -> model.Programme:
    return authoring.load_source(SAMPLE).programme


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a kiosk without a desktop session: no usable OS key store."""
    monkeypatch.setattr(keys, "usable_keyring", lambda: False)


@pytest.fixture
def log_handler(tmp_path: Path) -> Iterator[logging.Handler]:
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(tmp_path / "kiosk")
    yield handler
    root.removeHandler(handler)
    handler.close()
    root.setLevel(level)


@pytest.mark.usefixtures("no_keyring")
def test_everything_lives_under_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "kiosk"
    with open_kiosk(data) as services:
        assert services.data_dir == data
    assert (data / DB_FILE_NAME).is_file()
    key = data / keys.KEY_FILE_NAME
    assert key.is_file()
    if os.name == "posix":
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kiosk"]


@pytest.mark.usefixtures("no_keyring")
def test_a_second_start_opens_the_same_database(tmp_path: Path, programme: model.Programme) -> None:
    data = tmp_path / "kiosk"
    with open_kiosk(data) as services:
        register(services.store, programme=programme, access_code=CODE)
    with open_kiosk(data) as services, services.store.unit() as s:
        types = list(s.scalars(select(JournalEvent.type).order_by(JournalEvent.seq)))
    assert types == ["participant.registered", "enrolment.assigned"]


@pytest.mark.parametrize(
    ("choice", "key_file_exists", "keyring_usable", "expected"),
    [
        (KeyStoreChoice.FILE, False, True, keys.FileKeyStore),
        (KeyStoreChoice.AUTO, True, True, keys.FileKeyStore),  # never moves a kiosk's key
        (KeyStoreChoice.AUTO, False, False, keys.FileKeyStore),
        (KeyStoreChoice.AUTO, False, True, keys.KeyringKeyStore),
        (KeyStoreChoice.KEYRING, False, True, keys.KeyringKeyStore),
    ],
)
def test_where_the_key_lives(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    choice: KeyStoreChoice,
    key_file_exists: bool,
    keyring_usable: bool,
    expected: type,
) -> None:
    monkeypatch.setattr(keys, "usable_keyring", lambda: keyring_usable)
    if key_file_exists:
        keys.FileKeyStore(tmp_path / keys.KEY_FILE_NAME).save(os.urandom(keys.KEY_BYTES))
    assert isinstance(key_store_for(tmp_path, choice), expected)


@pytest.mark.usefixtures("no_keyring")
def test_asking_for_a_keyring_that_is_not_there_is_a_plain_error(tmp_path: Path) -> None:
    with pytest.raises(KioskSetupError, match="--key-store file"):
        key_store_for(tmp_path, KeyStoreChoice.KEYRING)


def test_close_signs_out_whoever_is_there(tmp_path: Path, programme: model.Programme) -> None:
    data = tmp_path / "kiosk"
    clock = ManualClock(START)
    services = open_kiosk(
        data, key_store=keys.FileKeyStore(data / "db.key"), clock=clock, hasher=FAST_HASHER
    )
    with services:
        register(services.store, programme=programme, access_code=CODE)
        assert services.session.sign_in(access_code=CODE, pin=TEMPORARY_PIN).ok
    with open_kiosk(data, key_store=keys.FileKeyStore(data / "db.key")) as again:
        with again.store.unit() as s:
            last = s.scalars(select(JournalEvent).order_by(JournalEvent.seq.desc())).first()
        assert last is not None
        assert (last.type, last.data) == ("session.ended", {"reason": "officer"})


def test_logs_name_no_one_and_hold_no_pin(
    tmp_path: Path, log_handler: logging.Handler, programme: model.Programme
) -> None:
    data = tmp_path / "kiosk"
    assert isinstance(log_handler, logging.FileHandler)
    assert Path(log_handler.baseFilename).parent == data / kiosk_app_module.LOG_DIR_NAME
    clock = ManualClock(START)
    with open_kiosk(
        data, key_store=keys.FileKeyStore(data / "db.key"), clock=clock, hasher=FAST_HASHER
    ) as services:
        who = register(services.store, programme=programme, access_code=CODE, first_name=NAME)
        session = services.session
        assert not session.sign_in(access_code=CODE, pin="999999").ok
        clock.advance(5)
        assert session.sign_in(access_code=CODE, pin=TEMPORARY_PIN).ok
        assert session.choose_pin(new_pin="482916", confirm="482916").accepted
        settle_first_login(services.store, who, own_pin="482916", clock=clock)
    log_handler.flush()
    text = Path(log_handler.baseFilename).read_text("utf-8")
    assert who.participant_id in text  # it does log, by id
    for secret in (NAME, CODE, TEMPORARY_PIN, "999999", "482916"):
        assert secret not in text


def test_the_first_log_lines_are_kept_when_rotation_takes_over(tmp_path: Path) -> None:
    data = tmp_path / "kiosk"
    root = logging.getLogger()
    level = root.level
    early = configure_early_logging(data)
    rotating: logging.Handler | None = None
    try:
        logging.getLogger("kiosk_app.test").info("before rotation %s", "abc123")
        rotating = rotate_logs(early, data)
        logging.getLogger("kiosk_app.test").info("after rotation %s", "abc123")
        assert isinstance(rotating, logging.handlers.RotatingFileHandler)
        assert early not in root.handlers
        assert rotating in root.handlers
        assert early.stream is None  # closed
        rotating.flush()
        lines = Path(rotating.baseFilename).read_text("utf-8").splitlines()
    finally:
        for handler in (early, rotating):
            if handler is not None:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)
    assert Path(rotating.baseFilename) == Path(early.baseFilename)
    assert [line.split(": ", 1)[1] for line in lines] == [
        "before rotation abc123",
        "after rotation abc123",
    ]


def test_the_window_modules_leave_the_store_and_log_rotation_to_the_loader() -> None:
    # Everything imported before the welcome screen paints is cold-start time (DESIGN.md §7):
    # the store (SQLAlchemy, argon2) and logging.handlers are the loader thread's to import.
    probe = (
        "import sys, kiosk_app.cli, kiosk_app.ui.main\n"
        "print(sorted(m for m in ('sqlalchemy', 'argon2', 'alembic', 'logging.handlers',"
        " 'kiosk_app.core.auth', 'kiosk_app.store.db') if m in sys.modules))"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "[]"
