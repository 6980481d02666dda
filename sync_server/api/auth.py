"""Device authentication: every request after enrolment carries an RFC 9421 signature."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Depends, Request
from sqlalchemy import Table, delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from starlette.concurrency import run_in_threadpool

from sync_server import models
from sync_server.api.errors import ApiError
from sync_server.runtime import Runtime, runtime_of
from sync_server.signatures import SignatureRejected, VerifiedSignature, verify_request


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A request whose signature checked out: the device that signed it and the body it
    signed (already read, so an endpoint can parse it itself)."""

    device: models.Device
    body: bytes


async def signed_request(request: Request) -> SignedRequest:
    """The verified device and body, after signature, freshness and replay checks."""
    body = await request.body()
    runtime = runtime_of(request)
    device = await run_in_threadpool(
        _authenticate,
        runtime,
        request.method,
        _target_uri(request),
        dict(request.headers),
        body,
    )
    return SignedRequest(device, body)


async def authenticated_device(
    signed: Annotated[SignedRequest, Depends(signed_request)],
) -> models.Device:
    """The device that signed this request, after signature, freshness and replay checks."""
    return signed.device


def _target_uri(request: Request) -> str:
    """The URI as the device sent it: RFC 9421 signs it before any percent-decoding."""
    raw_path: bytes | None = request.scope.get("raw_path")
    if not raw_path:
        return str(request.url)
    return str(request.url.replace(path=raw_path.decode("latin-1")))


def _authenticate(
    runtime: Runtime, method: str, url: str, headers: dict[str, str], body: bytes
) -> models.Device:
    now = datetime.now(UTC)
    with runtime.sessions.begin() as s:
        try:
            verified = verify_request(
                method=method,
                url=url,
                headers=headers,
                body=body,
                resolve_key=lambda key_id: _device_key(s, key_id),
                now=now,
                max_skew=runtime.settings.max_clock_skew,
            )
        except SignatureRejected as exc:
            raise ApiError(
                401, str(exc.reason), exc.detail, wipe=exc.reason == "device_revoked"
            ) from None
        device = s.get(models.Device, verified.key_id)
        assert device is not None  # the resolver found it a moment ago
        _spend_nonce(s, verified, now, runtime.settings.max_clock_skew)
        # Core statements, not the unit of work: this runs before every device request.
        s.execute(
            update(models.Device).where(models.Device.id == device.id).values(last_seen_at=now),
            execution_options={"synchronize_session": False},
        )
        s.expunge(device)
        set_committed_value(device, "last_seen_at", now)
    return device


def _device_key(s: Session, key_id: str) -> Ed25519PublicKey | None:
    device = s.get(models.Device, key_id) if len(key_id) <= 36 else None
    if device is None:
        return None
    if device.revoked_at is not None:
        raise SignatureRejected("device_revoked", "this device has been revoked; erase local data")
    return Ed25519PublicKey.from_public_bytes(device.ed25519_public_key)


def _spend_nonce(s: Session, verified: VerifiedSignature, now: datetime, skew: timedelta) -> None:
    # A nonce only needs remembering while its `created` is still acceptable.
    s.execute(delete(models.Nonce).where(models.Nonce.seen_at < now - 2 * skew))
    table = cast(Table, models.Nonce.__table__)
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    spent = s.execute(
        insert(table)
        .values(device_id=verified.key_id, nonce=verified.nonce, seen_at=now)
        .on_conflict_do_nothing(index_elements=["device_id", "nonce"])
        .returning(table.c.nonce)
    )
    # Nothing inserted: this device sent this nonce before (or another request of it, at the
    # same moment, holding it, committed first).
    if spent.first() is None:
        raise ApiError(401, "nonce_reused", "this request was already received")
