"""The kiosk's composition root (Qt-free): everything under one data folder, services wired."""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from kiosk_app.store import keys

# The services (SQLAlchemy, Alembic, argon2) are imported by `open_kiosk`, not here: the
# kiosk paints its welcome screen before it opens the store (see kiosk_app.ui.main).
if TYPE_CHECKING:
    import logging.handlers

    from argon2 import PasswordHasher

    from kiosk_app.core.auth import LoginService
    from kiosk_app.core.clock import Clock
    from kiosk_app.core.library import PackLibrary
    from kiosk_app.core.session import KioskSession
    from kiosk_app.store.db import Store

log = logging.getLogger(__name__)

LOG_DIR_NAME = "logs"
LOG_FILE_NAME = "kiosk.log"
_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class KeyStoreChoice(StrEnum):
    """Where the database key lives: `auto` keeps a key file once there is one."""

    AUTO = "auto"
    FILE = "file"
    KEYRING = "keyring"


class KioskSetupError(Exception):
    """The kiosk cannot start with this configuration (explained in plain words)."""


def key_store_for(data_dir: Path, choice: KeyStoreChoice) -> keys.KeyStore:
    """The key store for `data_dir`.

    `auto` uses the key file when `DATA_DIR/db.key` exists (a kiosk never changes where its
    key lives behind the operator's back), else the OS key store when a usable one is there,
    else a new key file.
    """
    key_file = keys.FileKeyStore(data_dir / keys.KEY_FILE_NAME)
    if choice is KeyStoreChoice.FILE:
        return key_file
    if choice is KeyStoreChoice.KEYRING:
        if not keys.usable_keyring():
            raise KioskSetupError("no usable OS key store; use --key-store file")
        return keys.KeyringKeyStore(username=str(data_dir.resolve()))
    if key_file.path.exists():
        return key_file
    return keys.default_key_store(data_dir)


_LOG_MAX_BYTES = 2_000_000
_LOG_BACKUPS = 5


def configure_logging(
    data_dir: Path, *, level: int = logging.INFO
) -> logging.handlers.RotatingFileHandler:
    """Log to `DATA_DIR/logs/kiosk.log` (rotated). Log lines carry ids, never PINs or names."""
    import logging.handlers

    handler = logging.handlers.RotatingFileHandler(
        _log_path(data_dir), maxBytes=_LOG_MAX_BYTES, backupCount=_LOG_BACKUPS, encoding="utf-8"
    )
    _add_root_handler(handler, level)
    return handler


def configure_early_logging(data_dir: Path, *, level: int = logging.INFO) -> logging.FileHandler:
    """The kiosk's first log lines, appended to `DATA_DIR/logs/kiosk.log` unrotated.

    `logging.handlers` (with the socket, pickle and queue modules it imports) costs the cold
    start about 8 ms of CPU before the welcome screen; `rotate_logs`, called on the loader
    thread, swaps in the rotating handler on the same file.
    """
    handler = logging.FileHandler(_log_path(data_dir), encoding="utf-8")
    _add_root_handler(handler, level)
    return handler


def rotate_logs(early: logging.FileHandler, data_dir: Path) -> logging.handlers.RotatingFileHandler:
    """Replace `early` with the rotating handler of `configure_logging` (same file, same level).

    Added before `early` is removed, so a line logged meanwhile by another thread is written
    once or, in that instant, twice: never lost.
    """
    root = logging.getLogger()
    rotating = configure_logging(data_dir, level=root.level)
    root.removeHandler(early)
    early.close()
    return rotating


def _log_path(data_dir: Path) -> Path:
    log_dir = data_dir / LOG_DIR_NAME
    keys.ensure_data_dir(data_dir)
    log_dir.mkdir(mode=0o700, exist_ok=True)
    return log_dir / LOG_FILE_NAME


def _add_root_handler(handler: logging.Handler, level: int) -> None:
    handler.setFormatter(logging.Formatter(_LOG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)


class KioskServices(NamedTuple):
    """The open kiosk: its store and the services acting on it.

    A named tuple, not a dataclass: `kiosk-app` imports this module before its first screen
    (see kiosk_app.ui.viewmodels).
    """

    store: Store
    clock: Clock
    login: LoginService
    library: PackLibrary
    session: KioskSession

    @property
    def data_dir(self) -> Path:
        return self.store.data_dir

    def close(self) -> None:
        """Sign out whoever is there (journaling their time), close packs and the database."""
        from kiosk_app.core.session import LogoutReason

        try:
            if self.session.signed_in is not None:
                self.session.logout(reason=LogoutReason.OFFICER)
        finally:
            self.library.close()
            self.store.close()

    def __enter__(self) -> KioskServices:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_kiosk(
    data_dir: Path,
    *,
    key_store: keys.KeyStore | None = None,
    key_store_choice: KeyStoreChoice = KeyStoreChoice.AUTO,
    clock: Clock | None = None,
    hasher: PasswordHasher | None = None,
) -> KioskServices:
    """Open (creating and migrating if need be) the kiosk under `data_dir` and wire services."""
    from kiosk_app.core.auth import LoginService
    from kiosk_app.core.clock import SystemClock
    from kiosk_app.core.library import PackLibrary
    from kiosk_app.core.session import KioskSession
    from kiosk_app.store.db import open_store

    data_dir = Path(data_dir)
    keys.ensure_data_dir(data_dir)
    chosen = key_store if key_store is not None else key_store_for(data_dir, key_store_choice)
    store = open_store(data_dir, key_store=chosen)
    the_clock = clock if clock is not None else SystemClock()
    login = LoginService(store=store, clock=the_clock, hasher=hasher)
    library = PackLibrary(store=store)
    session = KioskSession(store=store, clock=the_clock, login=login, library=library)
    log.info("kiosk open (key store %s)", type(chosen).__name__)
    return KioskServices(
        store=store, clock=the_clock, login=login, library=library, session=session
    )
