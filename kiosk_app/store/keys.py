"""The device database key: random 256 bits, in the OS key store or a 0600 key file."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

KEY_BYTES = 32
KEY_FILE_NAME = "db.key"
KEYRING_SERVICE = "intervention-kiosk"
# Backends that keep nothing, refuse everything, or write the secret in clear.
_UNUSABLE_BACKENDS = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt.file")


class KeyStoreError(Exception):
    """The key store holds something that is not a database key, or cannot be written."""


class KeyStore(Protocol):
    """Where the database key lives; `save` must never overwrite an existing key."""

    def load(self) -> bytes | None: ...

    def save(self, key: bytes) -> None: ...


def ensure_data_dir(data_dir: Path) -> Path:
    """Create the data folder readable by its owner only (0700 on POSIX)."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":
        os.chmod(data_dir, 0o700)
    return data_dir


def _check(key: bytes, where: str) -> bytes:
    if len(key) != KEY_BYTES:
        raise KeyStoreError(f"{where} does not hold a {KEY_BYTES * 8}-bit key")
    return key


class FileKeyStore:
    """`DATA_DIR/db.key`: the raw key, created 0600 and exclusively, written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> bytes | None:
        try:
            return _check(self.path.read_bytes(), str(self.path))
        except FileNotFoundError:
            return None

    def save(self, key: bytes) -> None:
        _check(key, "the new key")
        tmp = self.path.with_name(f".{self.path.name}.{os.urandom(8).hex()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(key)
                f.flush()
                os.fsync(f.fileno())
            # A hard link appears whole or not at all, and fails if a key is already there,
            # so a crash never leaves half a key and two starts never race to two keys.
            os.link(tmp, self.path)
        except FileExistsError as exc:
            raise KeyStoreError(f"{self.path} already exists; refusing to replace a key") from exc
        finally:
            tmp.unlink(missing_ok=True)
        if os.name == "posix":
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


class KeyringKeyStore:
    """The OS key store (Secret Service, macOS Keychain, Windows Credential Locker)."""

    def __init__(self, username: str, service: str = KEYRING_SERVICE) -> None:
        self.service = service
        self.username = username

    def load(self) -> bytes | None:
        import keyring

        text = keyring.get_password(self.service, self.username)
        if text is None:
            return None
        try:
            return _check(bytes.fromhex(text), f"key store entry {self.service}/{self.username}")
        except ValueError as exc:
            raise KeyStoreError(f"key store entry {self.service} is not a hex key") from exc

    def save(self, key: bytes) -> None:
        import keyring

        if self.load() is not None:
            raise KeyStoreError("the OS key store already holds a key; refusing to replace it")
        keyring.set_password(self.service, self.username, _check(key, "the new key").hex())


def usable_keyring() -> bool:
    """Whether `keyring` is installed and its chosen backend really keeps secrets safely."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return False
    try:
        backend = keyring.get_keyring()
        priority = float(backend.priority)
    except (KeyringError, RuntimeError, ValueError):
        return False
    module = type(backend).__module__
    if module.startswith(_UNUSABLE_BACKENDS) or "plaintext" in type(backend).__name__.lower():
        return False
    return priority >= 1


def default_key_store(data_dir: Path) -> KeyStore:
    """The OS key store when a usable backend exists, else the key file in the data folder."""
    if usable_keyring():
        return KeyringKeyStore(username=str(data_dir.resolve()))
    return FileKeyStore(data_dir / KEY_FILE_NAME)


def load_or_create_key(data_dir: Path, *, key_store: KeyStore | None = None) -> bytes:
    """The database key for `data_dir`, made from the OS's CSPRNG on first use (never a PIN)."""
    ensure_data_dir(data_dir)
    store = key_store if key_store is not None else default_key_store(data_dir)
    key = store.load()
    if key is not None:
        return key
    try:
        store.save(os.urandom(KEY_BYTES))  # the OS CSPRNG, as `secrets` uses
        log.info("created a new database key in %s", type(store).__name__)
    except KeyStoreError:
        log.info("another start created the database key first")
    # Read back, so a concurrent first start that won the race is the key both use.
    key = store.load()
    if key is None:
        raise KeyStoreError(f"{type(store).__name__} did not keep the new key")
    return key
