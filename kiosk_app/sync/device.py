"""This kiosk's identity for sync: its keys, server and scope, kept in the encrypted store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from sqlalchemy.orm import Session

from content_packs import age, signing
from kiosk_app.store import repos
from kiosk_app.sync.transport import DeviceCredentials


@dataclass(frozen=True, slots=True)
class Provisioned:
    """An enrolled kiosk: everything a sync needs to know about itself."""

    device_id: str
    server_url: str
    credentials: DeviceCredentials
    identity: age.X25519Identity
    publisher_keys: tuple[signing.PublicKey, ...]
    access_code_prefix: str
    clock_offset: timedelta


def private_key_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def provisioned(s: Session) -> Provisioned | None:
    """This kiosk's identity, or None while it is not enrolled (or after a wipe)."""
    device = repos.device(s)
    if (
        device.device_id is None
        or device.server_url is None
        or device.ed25519_private_key is None
        or device.x25519_identity is None
        or device.access_code_prefix is None
    ):
        return None
    key = Ed25519PrivateKey.from_private_bytes(device.ed25519_private_key)
    offset = timedelta(seconds=repos.sync_state(s).clock_offset_seconds)
    return Provisioned(
        device_id=device.device_id,
        server_url=device.server_url,
        credentials=DeviceCredentials(device.device_id, key),
        identity=age.X25519Identity.from_str(device.x25519_identity),
        publisher_keys=tuple(signing.PublicKey.from_str(str(k)) for k in device.publisher_keys),
        access_code_prefix=device.access_code_prefix,
        clock_offset=offset,
    )
