"""Device enrolment: single-use, expiring, rate-limited codes that turn into device records."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from sync_server import models
from sync_server.settings import Settings

# Crockford's base32 without the letters people misread (I, L, O, U).
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_GROUPS = 3
_CODE_GROUP_LEN = 4
_PREFIX_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


class EnrolmentRefused(Exception):
    """The code is unknown, used or expired, or the client has tried too often."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def normalise_code(code: str) -> str:
    """What an officer types: any case, with or without dashes and spaces."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _hash_code(code: str) -> str:
    # Codes carry 60 random bits and live 24 h, so a fast hash is enough.
    return hashlib.sha256(normalise_code(code).encode("ascii")).hexdigest()


def issue_code(
    s: Session, *, site_id: str, created_by: int | None, now: datetime, lifetime: timedelta
) -> str:
    """Create a single-use code for enrolling a device at `site_id`; only its hash is stored."""
    site = s.get(models.Site, site_id)
    if site is None:
        raise LookupError(f"no site {site_id!r}")
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_GROUPS * _CODE_GROUP_LEN))
    code = "-".join(raw[i : i + _CODE_GROUP_LEN] for i in range(0, len(raw), _CODE_GROUP_LEN))
    s.add(
        models.EnrolmentCode(
            code_hash=_hash_code(code),
            force_id=site.force_id,
            site_id=site.id,
            created_at=now,
            expires_at=now + lifetime,
            created_by=created_by,
        )
    )
    s.add(
        models.AuditEntry(
            at=now,
            actor=f"staff:{created_by}" if created_by else "cli",
            action="enrolment_code.issued",
            subject=f"site:{site.id}",
            force_id=site.force_id,
            details={"expires_at": (now + lifetime).isoformat()},
        )
    )
    return code


def check_rate_limit(s: Session, *, client: str, now: datetime, settings: Settings) -> None:
    since = now - settings.enrol_window
    s.execute(delete(models.EnrolAttempt).where(models.EnrolAttempt.at < since))
    failures = s.scalar(
        select(func.count())
        .select_from(models.EnrolAttempt)
        .where(models.EnrolAttempt.client == client, models.EnrolAttempt.at >= since)
    )
    if (failures or 0) >= settings.enrol_attempts_per_window:
        raise EnrolmentRefused("rate_limited", "too many enrolment attempts; wait and try again")


def record_failure(s: Session, *, client: str, now: datetime) -> None:
    s.add(models.EnrolAttempt(client=client, at=now))


@dataclass(frozen=True, slots=True)
class NewDevice:
    device: models.Device
    force: models.Force
    site: models.Site


def enrol_device(
    s: Session,
    *,
    code: str,
    ed25519_public_key: bytes,
    x25519_recipient: str,
    name: str,
    app_version: str,
    now: datetime,
) -> NewDevice:
    """Spend `code` and create the device; raises EnrolmentRefused when the code is no good."""
    # The conditional UPDATE spends the code atomically: two devices racing with one
    # code cannot both see it unused.
    device_id = str(uuid.uuid4())
    code_hash = _hash_code(code)
    row = s.scalar(select(models.EnrolmentCode).where(models.EnrolmentCode.code_hash == code_hash))
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise EnrolmentRefused(
            "enrolment_code_invalid", "the enrolment code is unknown, used or expired"
        )
    force = s.get(models.Force, row.force_id)
    site = s.get(models.Site, row.site_id)
    # Foreign keys guarantee both.
    assert force is not None
    assert site is not None
    device = models.Device(
        id=device_id,
        force_id=force.id,
        site_id=site.id,
        name=name,
        ed25519_public_key=ed25519_public_key,
        x25519_recipient=x25519_recipient,
        access_code_prefix=_free_prefix(s, force.id),
        app_version=app_version,
        enrolled_at=now,
    )
    s.add(device)
    s.flush()
    spent = s.execute(
        update(models.EnrolmentCode)
        .where(models.EnrolmentCode.id == row.id, models.EnrolmentCode.used_at.is_(None))
        .values(used_at=now, used_by_device=device_id)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise EnrolmentRefused(
            "enrolment_code_invalid", "the enrolment code is unknown, used or expired"
        )
    s.add(
        models.AuditEntry(
            at=now,
            actor=f"device:{device_id}",
            action="device.enrolled",
            subject=f"device:{device_id}",
            force_id=force.id,
            details={"site": site.id, "name": name, "app_version": app_version},
        )
    )
    return NewDevice(device=device, force=force, site=site)


def _free_prefix(s: Session, force_id: str) -> str:
    """A 3-character access-code prefix no other device of the force has."""
    taken = set(
        s.scalars(
            select(models.Device.access_code_prefix).where(models.Device.force_id == force_id)
        )
    )
    for _ in range(1000):
        prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(3))
        if prefix not in taken:
            return prefix
    raise RuntimeError("no free access-code prefix left in this force")


def decode_public_key(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
