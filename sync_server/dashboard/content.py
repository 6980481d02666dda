"""The content pages: upload a signed pack, see its outline, publish it to forces, retire it."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.responses import RedirectResponse, Response

from sync_server.dashboard import content_releases
from sync_server.dashboard.access import (
    CheckedForm,
    Refused,
    checked_upload,
    not_found,
    now,
    require,
)
from sync_server.dashboard.attribution import claim
from sync_server.dashboard.auth import Staff
from sync_server.dashboard.casework import audit_as
from sync_server.dashboard.confirm import carry_out, confirm_page
from sync_server.dashboard.content_releases import Release
from sync_server.dashboard.templating import CONTENT_ROLES, PREFIX, render
from sync_server.runtime import Runtime, runtime_of
from sync_server.services import packs
from sync_server.services.writelock import begin_decision

PATH = f"{PREFIX}/content"
UPLOAD_PATH = f"{PATH}/upload"
MAX_PACK_BYTES = 512 * 1024 * 1024
MAX_SIGNATURE_BYTES = 4096
BODY_LIMITS = {UPLOAD_PATH: MAX_PACK_BYTES + MAX_SIGNATURE_BYTES + 64 * 1024}
_COPY_CHUNK = 1 << 20

router = APIRouter(prefix=PATH, include_in_schema=False)
ContentStaff = Annotated[Staff, Depends(require(CONTENT_ROLES))]
PackUpload = Annotated[FormData, Depends(checked_upload(max_files=2, max_fields=64))]


class Refusal(Exception):
    """An upload that cannot be published; the message says why, in a sentence."""


def _page(request: Request, staff: Staff, *, error: str = "", status_code: int = 200) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions() as s:
        rows = content_releases.releases(s, staff=staff)
        forces = content_releases.target_forces(s, staff=staff)
    return render(
        "content.html",
        staff=staff,
        zone=runtime.settings.dashboard_timezone,
        status_code=status_code,
        releases=rows,
        forces=forces,
        error=error,
        max_megabytes=MAX_PACK_BYTES // (1024 * 1024),
    )


@router.get("")
def content_page(request: Request, staff: ContentStaff) -> Response:
    return _page(request, staff)


def _signature(form: FormData) -> str:
    upload = form.get("signature")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise Refusal("Choose the pack's signature file (.minisig) as well as the pack.")
    raw = upload.file.read(MAX_SIGNATURE_BYTES + 1)
    if len(raw) > MAX_SIGNATURE_BYTES:
        raise Refusal("That signature file is too large to be a minisign signature.")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal("That signature file is not a minisign signature (not text).") from None


def _spool(form: FormData, directory: Path) -> Path:
    """The uploaded pack, copied to a private temporary file in `directory`."""
    upload = form.get("pack")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise Refusal("Choose a built pack file (.pack) to upload.")
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=directory, prefix=".upload-", suffix=".pack")
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(upload.file, out, _COPY_CHUNK)
    path = Path(name)
    if path.stat().st_size == 0:
        path.unlink()
        raise Refusal("That pack file is empty.")
    return path


@router.post("/upload")
def upload(request: Request, staff: ContentStaff, form: PackUpload) -> Response:
    """Verify and publish in one transaction: a refused pack leaves no file and no row."""
    runtime = runtime_of(request)
    settings = runtime.settings
    at = now()
    tmp: Path | None = None
    try:
        signature = _signature(form)
        tmp = _spool(form, settings.data_dir / "uploads")
        with runtime.sessions.begin() as s:
            begin_decision(s)
            forces = content_releases.chosen_forces(
                s, staff=staff, wanted=[v for v in form.getlist("forces") if isinstance(v, str)]
            )
            if forces is None:
                raise Refusal("You may publish only to your own force.")
            release = packs.publish(
                s, settings, pack_path=tmp, signature_text=signature, forces=forces, now=at
            )
            subject = f"{release.pack_id}:{release.version}"
            claim(s, action="pack.published", subject=subject, at=at, staff=staff)
            target = f"{PATH}/{release.pack_id}/{release.version}"
    except (Refusal, packs.PackServiceError) as exc:
        message = str(exc)
        return _page(request, staff, error=message[:1].upper() + message[1:], status_code=400)
    finally:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    return RedirectResponse(f"{target}?{urlencode({'published': 1})}", status_code=303)


def _find(s: Session, runtime: Runtime, staff: Staff, pack_id: str, version: int) -> Release:
    found = content_releases.release(
        s, staff=staff, pack_id=pack_id[:64], version=version, programmes=runtime.programmes
    )
    if found is None:
        raise not_found("pack release", staff)
    return found


def _release(request: Request, staff: Staff, pack_id: str, version: int) -> Release:
    runtime = runtime_of(request)
    with runtime.sessions() as s:
        return _find(s, runtime, staff, pack_id, version)


@router.get("/{pack_id}/{version}")
def release_page(request: Request, pack_id: str, version: int, staff: ContentStaff) -> Response:
    found = _release(request, staff, pack_id, version)
    notices = {
        "published": "Published. Devices of the forces below are offered it at their next sync.",
        "offered": "Offered to the forces chosen, from their devices' next sync.",
        "retired": "Retired: devices are told to remove it, and it can no longer be downloaded.",
    }
    notice = next((text for key, text in notices.items() if key in request.query_params), "")
    return render(
        "content_release.html",
        staff=staff,
        zone=runtime_of(request).settings.dashboard_timezone,
        found=found,
        programme=found.programme,
        notice=notice,
    )


@router.post("/{pack_id}/{version}/publish")
def publish_to_forces(
    request: Request, pack_id: str, version: int, staff: ContentStaff, form: CheckedForm
) -> Response:
    runtime = runtime_of(request)
    wanted = [v for v in form.getlist("forces") if isinstance(v, str)]

    def offer(s: Session, at: datetime) -> str:
        begin_decision(s)
        found = _find(s, runtime, staff, pack_id, version)
        if found.release.retired_at is not None:
            raise Refused(409, "Retired", "This version is retired.", staff=staff)
        forces = content_releases.chosen_forces(s, staff=staff, wanted=wanted)
        if not forces:
            raise Refused(400, "Not published", "Choose one or more of your forces.", staff=staff)
        added = content_releases.offer(s, release=found.release, forces=forces, now=at)
        subject = f"{found.release.pack_id}:{found.release.version}"
        audit_as(s, staff, "pack.offered", at=at, subject=subject, details={"forces": added})
        return f"{PATH}/{pack_id}/{version}?offered=1"

    return carry_out(request, offer)


@router.get("/{pack_id}/{version}/retire")
def confirm_retire(request: Request, pack_id: str, version: int, staff: ContentStaff) -> Response:
    found = _release(request, staff, pack_id, version)
    return confirm_page(request, staff, "content_retire.html", found=found)


@router.post("/{pack_id}/{version}/retire")
def retire(
    request: Request, pack_id: str, version: int, staff: ContentStaff, _form: CheckedForm
) -> Response:
    runtime = runtime_of(request)

    def retire_it(s: Session, at: datetime) -> str:
        begin_decision(s)
        found = _find(s, runtime, staff, pack_id, version)
        if not found.may_retire:
            raise _refused_retire(staff, found)
        packs.retire(s, pack_id=found.release.pack_id, version=found.release.version, now=at)
        subject = f"{found.release.pack_id}:{found.release.version}"
        claim(s, action="pack.retired", subject=subject, at=at, staff=staff)
        return f"{PATH}/{pack_id}/{version}?retired=1"

    return carry_out(request, retire_it)


def _refused_retire(staff: Staff, found: Release) -> Refused:
    if found.release.retired_at is not None:
        return Refused(409, "Already retired", "This version is already retired.", staff=staff)
    return Refused(
        403,
        "Not retired",
        "Other forces use this version too: only a scheme administrator may retire it.",
        staff=staff,
    )
