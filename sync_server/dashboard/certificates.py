"""Completion certificates: their codes and signed records, the list of completed
enrolments, and issuing a signed record and its PDF for a completed one."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sync_server.dashboard import certificate_pdf
from sync_server.dashboard.auth import Staff
from sync_server.dashboard.casework import audit_as
from sync_server.dashboard.certificate_keys import SigningKey
from sync_server.dashboard.certificate_models import Certificate
from sync_server.dashboard.certificate_pdf import Facts
from sync_server.dashboard.scope import force_filter, may_see_force
from sync_server.models import Enrolment, EnrolmentStatus, Force, PackRelease, Participant, Site

PAGE_SIZE = 50
RECORD_FORMAT = 1
# Crockford's base32: 12 characters carry 60 random bits.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_LENGTH = 12
# What people misread or mistype, as Crockford decoding reads it.
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, _CODE_LENGTH, 4))


def normalise_code(text: str) -> str | None:
    """The code as stored, from what someone typed (any case, spaces, dashes); None if it
    cannot be one."""
    raw = "".join(c for c in text.upper() if c.isalnum()).translate(_READ_AS)
    if len(raw) != _CODE_LENGTH or any(c not in _ALPHABET for c in raw):
        return None
    return "-".join(raw[i : i + 4] for i in range(0, _CODE_LENGTH, 4))


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def canonical(record: dict[str, Any]) -> str:
    """The one text of a record that is signed and stored."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_of(facts: Facts, *, document_sha256: str, key_id: str) -> dict[str, Any]:
    return {
        "format": RECORD_FORMAT,
        "code": facts.code,
        "enrolment": facts.enrolment_id,
        "participant": {"first_name": facts.first_name, "reference": facts.reference},
        "programme": {
            "id": facts.programme_id,
            "title": facts.programme_title,
            "version": facts.version,
        },
        "completed_at": _iso(facts.completed_at),
        "force": {"id": facts.force_id, "name": facts.force_name},
        "issued_at": _iso(facts.issued_at),
        "document_sha256": document_sha256,
        "key": key_id,
    }


# --- the list of completion records --------------------------------------------------------


@dataclass(frozen=True)
class CompletedRow:
    enrolment_id: str
    participant_id: str
    first_name: str
    reference: str
    site: str
    programme: str
    version: int | None
    completed_at: datetime | None
    code: str | None


@dataclass
class CompletedPage:
    page: int
    total: int
    rows: list[CompletedRow] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def completed(s: Session, *, staff: Staff, page: int) -> CompletedPage:
    """Completed enrolments of the staff member's force, newest first, with any certificate."""
    where = [Enrolment.status == EnrolmentStatus.COMPLETE, force_filter(staff, Enrolment.force_id)]
    total = s.scalar(select(func.count()).select_from(Enrolment).where(*where)) or 0
    rows = s.execute(
        select(
            Enrolment.id,
            Participant.id,
            Participant.first_name,
            Participant.force_reference,
            Site.name,
            func.coalesce(PackRelease.title, Enrolment.programme_id),
            Enrolment.programme_version,
            Enrolment.completed_at,
            Certificate.code,
        )
        .join(Participant, Participant.id == Enrolment.participant_id)
        .join(Site, Site.id == Enrolment.site_id)
        .outerjoin(
            PackRelease,
            and_(
                PackRelease.pack_id == Enrolment.programme_id,
                PackRelease.version == Enrolment.programme_version,
            ),
        )
        .outerjoin(Certificate, Certificate.enrolment_id == Enrolment.id)
        .where(*where)
        .order_by(Enrolment.completed_at.desc(), Enrolment.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return CompletedPage(page=page, total=total, rows=[CompletedRow(*row) for row in rows])


# --- issuing -------------------------------------------------------------------------------


def issue(
    s: Session,
    *,
    key: SigningKey,
    staff: Staff,
    enrolment_id: str,
    verify_url: str,
    zone: str,
    now: datetime,
) -> Certificate | None:
    """The enrolment's certificate, signed and rendered on first request; None when the
    enrolment is not a completed one of the staff member's force."""
    enrolment = s.get(Enrolment, enrolment_id)
    if (
        enrolment is None
        or not may_see_force(staff, enrolment.force_id)
        or enrolment.status != EnrolmentStatus.COMPLETE
        or enrolment.completed_at is None
        or enrolment.programme_version is None
    ):
        return None
    existing = s.scalar(select(Certificate).where(Certificate.enrolment_id == enrolment.id))
    if existing is not None:
        return existing
    participant = s.get(Participant, enrolment.participant_id)
    force = s.get(Force, enrolment.force_id)
    # Foreign keys guarantee both.
    assert participant is not None
    assert force is not None
    title = s.scalar(
        select(PackRelease.title).where(
            PackRelease.pack_id == enrolment.programme_id,
            PackRelease.version == enrolment.programme_version,
        )
    )
    facts = Facts(
        code=new_code(),
        enrolment_id=enrolment.id,
        first_name=participant.first_name,
        reference=participant.force_reference,
        programme_id=enrolment.programme_id,
        programme_title=title or enrolment.programme_id,
        version=enrolment.programme_version,
        # The server's own reckoning from the events, not the kiosk's say-so.
        completed_at=enrolment.completed_at,
        force_id=force.id,
        force_name=force.name,
        issued_at=now,
    )
    document = certificate_pdf.render(
        facts, verify_url=f"{verify_url}?code={facts.code}", zone=zone
    )
    digest = hashlib.sha256(document).hexdigest()
    record = canonical(record_of(facts, document_sha256=digest, key_id=key.key_id))
    certificate = Certificate(
        code=facts.code,
        enrolment_id=enrolment.id,
        force_id=force.id,
        record=record,
        signature=key.sign(record.encode("utf-8")),
        key_id=key.key_id,
        document=document,
        document_sha256=digest,
        issued_at=now,
        issued_by=staff.id,
    )
    try:
        with s.begin_nested():
            s.add(certificate)
    except IntegrityError:
        # Someone else issued it a moment ago: theirs is the certificate.
        return s.scalar(select(Certificate).where(Certificate.enrolment_id == enrolment.id))
    audit_as(
        s,
        staff,
        "certificate.issued",
        at=now,
        subject=certificate.code,
        force_id=force.id,
        details={"enrolment": enrolment.id},
    )
    return certificate


def find(s: Session, *, staff: Staff, code: str) -> Certificate | None:
    """The certificate with this code, if it belongs to the staff member's force."""
    return s.scalar(
        select(Certificate).where(
            Certificate.code == code, force_filter(staff, Certificate.force_id)
        )
    )
