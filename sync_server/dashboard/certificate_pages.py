"""The completion records pages: completed enrolments, issuing and downloading certificates,
and the staff page that checks a certificate by its code or by its file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.responses import RedirectResponse, Response

from sync_server.dashboard import certificate_checks, certificate_keys, certificates
from sync_server.dashboard.access import CheckedForm, checked_upload, field, not_found, now, require
from sync_server.dashboard.auth import Staff
from sync_server.dashboard.casework import audit_as, page_number
from sync_server.dashboard.certificate_keys import SigningKey
from sync_server.dashboard.certificate_models import Certificate
from sync_server.dashboard.templating import CASEWORK_ROLES, PREFIX, render
from sync_server.runtime import runtime_of

PATH = f"{PREFIX}/certificates"
VERIFY_PATH = f"{PATH}/verify"
# A certificate is about 50 KB; anything much larger is not one of ours.
MAX_DOCUMENT_BYTES = 512 * 1024
BODY_LIMITS = {VERIFY_PATH: MAX_DOCUMENT_BYTES + 16 * 1024}

router = APIRouter(prefix=PATH, include_in_schema=False)
Caseworker = Annotated[Staff, Depends(require(CASEWORK_ROLES))]
CertificateUpload = Annotated[FormData, Depends(checked_upload(max_files=1, max_fields=4))]


def _verify_url(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}{VERIFY_PATH}"


@router.get("")
def completion_records(request: Request, staff: Caseworker) -> Response:
    runtime = runtime_of(request)
    page = page_number(request.query_params.get("page"))
    at = now()
    with runtime.sessions.begin() as s:
        listing = certificates.completed(s, staff=staff, page=page)
        shown = sorted({row.participant_id for row in listing.rows})
        audit_as(s, staff, "certificates.listed", at=at, details={"page": page, "shown": shown})
    return render(
        "certificates.html",
        staff=staff,
        zone=runtime.settings.dashboard_timezone,
        listing=listing,
    )


@router.post("/issue")
def issue(request: Request, staff: Caseworker, form: CheckedForm) -> Response:
    runtime = runtime_of(request)
    key = certificate_keys.load_or_create(runtime.settings)
    with runtime.sessions.begin() as s:
        certificate = certificates.issue(
            s,
            key=key,
            staff=staff,
            enrolment_id=field(form, "enrolment_id")[:36],
            verify_url=_verify_url(request),
            zone=runtime.settings.dashboard_timezone,
            now=now(),
        )
        code = certificate.code if certificate is not None else None
    if code is None:
        raise not_found("completed enrolment", staff)
    return RedirectResponse(f"{PATH}/{code}", status_code=303)


def _check_page(
    request: Request,
    staff: Staff,
    *,
    verdict: certificate_checks.Verdict | None = None,
    error: str = "",
    code: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        "certificate_check.html",
        staff=staff,
        zone=runtime_of(request).settings.dashboard_timezone,
        status_code=status_code,
        verdict=verdict,
        error=error,
        code=code,
    )


def _checked(
    request: Request,
    staff: Staff,
    check: Callable[[Session, SigningKey], certificate_checks.Verdict],
    *,
    method: str,
    code: str | None,
) -> Response:
    """The check's verdict, audited and shown."""
    runtime = runtime_of(request)
    key = certificate_keys.load_or_create(runtime.settings)
    with runtime.sessions.begin() as s:
        verdict = check(s, key)
        certificate_checks.audit_check(
            s, staff=staff, method=method, verdict=verdict, code=code, now=now()
        )
    return _check_page(request, staff, verdict=verdict, code=code or "")


@router.get("/verify")
def check_code(request: Request, staff: Caseworker) -> Response:
    typed = request.query_params.get("code", "")
    if not typed.strip():
        return _check_page(request, staff)
    code = certificates.normalise_code(typed[:40])
    if code is None:
        return _check_page(
            request,
            staff,
            error="A verification code has 12 letters and digits, like 7KQ2-M9XD-4TWB.",
            code=typed[:40],
            status_code=400,
        )
    return _checked(
        request,
        staff,
        lambda s, key: certificate_checks.check_code(s, key=key, staff=staff, code=code),
        method="code",
        code=code,
    )


@router.post("/verify")
async def check_document(request: Request, staff: Caseworker, form: CertificateUpload) -> Response:
    upload = form.get("document")
    if not isinstance(upload, UploadFile):
        return _check_page(
            request, staff, error="Choose the certificate's PDF file.", status_code=400
        )
    document = await upload.read(MAX_DOCUMENT_BYTES + 1)
    if not document.startswith(b"%PDF-") or len(document) > MAX_DOCUMENT_BYTES:
        return _check_page(
            request,
            staff,
            error="That file is not a certificate: certificates are PDF files under 512 KB.",
            status_code=400,
        )
    return _checked(
        request,
        staff,
        lambda s, key: certificate_checks.check_document(
            s, key=key, staff=staff, document=document
        ),
        method="document",
        code=None,
    )


def _certificate(request: Request, staff: Staff, code: str, action: str) -> Certificate:
    """The certificate if it is the staff member's force's; reading it is audited."""
    normal = certificates.normalise_code(code[:40])
    runtime = runtime_of(request)
    with runtime.sessions.begin() as s:
        found = certificates.find(s, staff=staff, code=normal) if normal else None
        if found is None:
            raise not_found("certificate", staff)
        audit_as(
            s,
            staff,
            action,
            at=now(),
            subject=found.code,
            force_id=found.force_id,
            details={"enrolment": found.enrolment_id},
        )
        s.expunge(found)
        return found


@router.get("/{code}")
def certificate_page(request: Request, code: str, staff: Caseworker) -> Response:
    runtime = runtime_of(request)
    found = _certificate(request, staff, code, "certificate.viewed")
    facts = certificate_checks.signed_facts(
        certificate_keys.load_or_create(runtime.settings), found
    )
    return render(
        "certificate.html",
        staff=staff,
        zone=runtime.settings.dashboard_timezone,
        certificate=found,
        facts=facts,
        tampered=certificate_checks.TAMPERED,
    )


@router.get("/{code}/pdf")
def certificate_pdf(request: Request, code: str, staff: Caseworker) -> Response:
    found = _certificate(request, staff, code, "certificate.downloaded")
    return Response(
        found.document,
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="certificate-{found.code}.pdf"'},
    )
