"""Enrolment: make the device's keys, spend the one-time code, pin what the server says.

The Ed25519 signing key and the X25519 pack identity are made here and kept only in the
encrypted store, never in a clear file. The publisher keys and the server's address are
pinned at enrolment: packs are trusted only if signed by those keys, and requests go only
to that server (https, or http on loopback for development).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from content_packs import age
from kiosk_app.store import repos
from kiosk_app.store.db import Store
from kiosk_app.sync.device import private_key_bytes
from kiosk_app.sync.engine import SyncEngine, SyncResult
from kiosk_app.sync.transport import RetryPolicy, Transport, check_server_url
from sync_server import protocol

log = logging.getLogger(__name__)


class AlreadyEnrolledError(Exception):
    """This kiosk is enrolled already; a revoked kiosk is wiped first, then enrolled again."""


@dataclass(frozen=True, slots=True)
class Enrolled:
    device_id: str
    force_name: str
    site_name: str
    access_code_prefix: str
    first_sync: SyncResult


def app_version() -> str:
    try:
        return version("intervention-kiosk")
    except PackageNotFoundError:
        return "0.0.0"


def enrol(
    *,
    store: Store,
    engine: SyncEngine,
    server_url: str,
    code: str,
    device_name: str = "Kiosk",
    retry: RetryPolicy | None = None,
    http: Callable[[], requests.Session] = requests.Session,
) -> Enrolled:
    """Enrol this kiosk with `code` at `server_url`, then run its first sync."""
    url = check_server_url(server_url)
    with store.unit() as s:
        if repos.device(s).device_id is not None:
            raise AlreadyEnrolledError("this kiosk is already enrolled")
    signing_key = Ed25519PrivateKey.generate()
    identity = age.X25519Identity.generate()
    request = protocol.EnrolRequest(
        code=code.strip().replace(" ", ""),
        ed25519_public_key=base64.b64encode(
            signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        ).decode(),
        x25519_recipient=identity.recipient.to_str(),
        device_name=device_name,
        app_version=app_version(),
    )
    transport = Transport(
        server_url=url, credentials=None, retry=retry, now=engine.clock.now, http=http()
    )
    try:
        answer = transport.enrol(request)
    finally:
        transport.close()
    with store.unit() as s:
        device = repos.device(s)
        if device.device_id is not None:
            raise AlreadyEnrolledError("this kiosk was enrolled meanwhile")
        device.device_id = answer.device_id
        device.ed25519_private_key = private_key_bytes(signing_key)
        device.x25519_identity = identity.to_str()
        device.server_url = url
        device.force_id, device.force_name = answer.force.id, answer.force.name
        device.site_id, device.site_name = answer.site.id, answer.site.name
        device.access_code_prefix = answer.access_code_prefix
        device.publisher_keys = list(answer.publisher_keys)
        state = repos.sync_state(s)
        state.pull_cursor = ""
        state.failures = 0
        state.next_attempt_at = None
        state.last_error = None
        state.clock_offset_seconds = transport.clock_offset.total_seconds()
    log.info("enrolled as device %s", answer.device_id)
    first = engine.run_once(force=True)
    return Enrolled(
        device_id=answer.device_id,
        force_name=answer.force.name,
        site_name=answer.site.name,
        access_code_prefix=answer.access_code_prefix,
        first_sync=first,
    )
