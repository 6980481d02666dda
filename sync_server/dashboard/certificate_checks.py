"""Checking a completion certificate, by its code or by its file, against the record this
server signed when it issued it."""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.dashboard import certificate_pdf
from sync_server.dashboard.auth import Staff
from sync_server.dashboard.casework import audit_as
from sync_server.dashboard.certificate_keys import SigningKey
from sync_server.dashboard.certificate_models import Certificate
from sync_server.dashboard.certificates import find
from sync_server.dashboard.scope import force_filter


@dataclass(frozen=True)
class SignedFacts:
    """What a verified record says, for display."""

    code: str
    first_name: str
    reference: str
    programme_title: str
    programme_id: str
    version: int
    completed_at: datetime
    force_id: str
    force_name: str
    issued_at: datetime
    document_sha256: str


def _signed_facts(record: dict[str, Any]) -> SignedFacts:
    return SignedFacts(
        code=record["code"],
        first_name=record["participant"]["first_name"],
        reference=record["participant"]["reference"],
        programme_title=record["programme"]["title"],
        programme_id=record["programme"]["id"],
        version=record["programme"]["version"],
        completed_at=datetime.fromisoformat(record["completed_at"]),
        force_id=record["force"]["id"],
        force_name=record["force"]["name"],
        issued_at=datetime.fromisoformat(record["issued_at"]),
        document_sha256=record["document_sha256"],
    )


class Result(enum.StrEnum):
    GENUINE = "genuine"
    NOT_GENUINE = "not_genuine"


@dataclass(frozen=True)
class Verdict:
    result: Result
    message: str
    # What the genuine certificate says, when there is one to show.
    facts: SignedFacts | None = None

    @property
    def genuine(self) -> bool:
        return self.result is Result.GENUINE


def signed_facts(key: SigningKey, certificate: Certificate) -> SignedFacts | None:
    """The record's facts if its signature holds and it is the record of this row."""
    if certificate.key_id != key.key_id or not key.verify(
        certificate.record.encode("utf-8"), certificate.signature
    ):
        return None
    try:
        record = json.loads(certificate.record)
        facts = _signed_facts(record)
    except (ValueError, KeyError, TypeError):
        return None
    if (
        record.get("key") != key.key_id
        or facts.code != certificate.code
        or record.get("enrolment") != certificate.enrolment_id
        or facts.force_id != certificate.force_id
        or facts.document_sha256 != certificate.document_sha256
    ):
        return None
    return facts


TAMPERED = (
    "Not genuine: the stored record of this certificate does not match the server's "
    "signature. Do not rely on it, and tell an administrator."
)


def _attested(key: SigningKey, certificate: Certificate, result: Result, message: str) -> Verdict:
    """`message` with what the certificate's record says, unless that record does not hold."""
    facts = signed_facts(key, certificate)
    if facts is None:
        return Verdict(Result.NOT_GENUINE, TAMPERED)
    return Verdict(result, message, facts)


def check_code(s: Session, *, key: SigningKey, staff: Staff, code: str) -> Verdict:
    certificate = find(s, staff=staff, code=code)
    if certificate is None:
        return Verdict(
            Result.NOT_GENUINE,
            f"Not genuine: no certificate of yours has the code {code}. Check the code as "
            "written on the certificate.",
        )
    return _attested(
        key,
        certificate,
        Result.GENUINE,
        f"Genuine: certificate {code} was issued and signed by this server. Compare the "
        "facts below with the paper copy.",
    )


def check_document(s: Session, *, key: SigningKey, staff: Staff, document: bytes) -> Verdict:
    """Is this file, byte for byte, a certificate this server issued?"""
    digest = hashlib.sha256(document).hexdigest()
    certificate = s.scalar(
        select(Certificate).where(
            Certificate.document_sha256 == digest, force_filter(staff, Certificate.force_id)
        )
    )
    if certificate is not None and certificate.document == document:
        return _attested(
            key,
            certificate,
            Result.GENUINE,
            f"Genuine and unaltered: this file is exactly certificate {certificate.code} as "
            "issued and signed by this server.",
        )
    code = certificate_pdf.code_in(document)
    claimed = find(s, staff=staff, code=code) if code else None
    if claimed is None:
        return Verdict(
            Result.NOT_GENUINE,
            "Not genuine: this file is not a certificate issued to your force by this server.",
        )
    return _attested(
        key,
        claimed,
        Result.NOT_GENUINE,
        f"Not genuine: this file claims to be certificate {code} but has been altered since "
        "it was issued. The genuine certificate states the facts below.",
    )


def audit_check(
    s: Session, *, staff: Staff, method: str, verdict: Verdict, code: str | None, now: datetime
) -> None:
    audit_as(
        s,
        staff,
        "certificate.checked",
        at=now,
        subject=verdict.facts.code if verdict.facts else code,
        force_id=verdict.facts.force_id if verdict.facts else None,
        details={"method": method, "result": verdict.result.value},
    )
