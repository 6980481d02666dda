"""The server's certificate signing key: Ed25519, made on first use under the data directory."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync_server.settings import Settings

log = logging.getLogger(__name__)

KEY_FILE = "certificate-signing.key"
# Signatures over certificates can never be mistaken for any other signature of the server.
DOMAIN = b"intervention-kiosk completion certificate v1\n"


class CertificateKeyError(Exception):
    """The signing key cannot be read; the message names the file and why."""


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    # The first 16 hex digits of the public key's SHA-256: names the key in each record.
    key_id: str

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(DOMAIN + message)).decode("ascii")

    def verify(self, message: bytes, signature: str) -> bool:
        try:
            raw = base64.b64decode(signature, validate=True)
            self.private.public_key().verify(raw, DOMAIN + message)
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True


def key_path(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE


def _key_id(private: Ed25519PrivateKey) -> str:
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return hashlib.sha256(raw).hexdigest()[:16]


def _create(path: Path) -> None:
    """Write a new key beside `path` (mode 0600, fsynced) and link it into place; a key
    another process linked first wins, so every process signs with the same key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(name, path)
            log.info("created certificate signing key %s", path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def load_or_create(settings: Settings) -> SigningKey:
    """The certificate signing key, made on first use."""
    path = key_path(settings)
    if not path.exists():
        _create(path)
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise CertificateKeyError(f"cannot read the certificate key {path}: {exc}") from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise CertificateKeyError(f"the certificate key {path} is not an Ed25519 key")
    return SigningKey(private=private, key_id=_key_id(private))
