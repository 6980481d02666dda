"""The devices page: every kiosk and tablet of the force with its sync state, enrolment codes
(as text and QR code) for new ones, and revoking a lost or stolen one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

import segno
from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased
from starlette.responses import Response

from sync_server.dashboard.access import CheckedForm, field, not_found, now, require
from sync_server.dashboard.auth import Staff
from sync_server.dashboard.casework import audit_as
from sync_server.dashboard.confirm import carry_out, confirm_page
from sync_server.dashboard.scope import force_filter, may_see_force
from sync_server.dashboard.templating import CASEWORK_ROLES, PREFIX, render
from sync_server.models import Change, Device, Event, Site, StaffUser
from sync_server.runtime import runtime_of
from sync_server.services import enrolment

PATH = f"{PREFIX}/devices"

router = APIRouter(prefix=PATH, include_in_schema=False)
Caseworker = Annotated[Staff, Depends(require(CASEWORK_ROLES))]


@dataclass(frozen=True)
class DeviceRow:
    id: str
    name: str
    site: str
    app_version: str
    enrolled_at: datetime
    # The later of its last signed request and the arrival of its newest event.
    last_sync: datetime | None
    # The highest event number the device has pushed (its per-device counter).
    last_event: int | None
    # Changes in the device's scope after the last cursor it pulled from.
    waiting: int
    revoked_at: datetime | None
    revoked_by: str | None


def listing(s: Session, *, staff: Staff) -> list[DeviceRow]:
    """The force's devices, active ones first, each with what the server knows of its sync."""
    waiting = (
        select(func.count())
        .select_from(Change)
        .where(
            Change.seq > func.coalesce(Device.last_pull_cursor, 0),
            or_(Change.force_id == Device.force_id, Change.force_id.is_(None)),
            or_(Change.site_id == Device.site_id, Change.site_id.is_(None)),
        )
        .correlate(Device)
        .scalar_subquery()
    )
    last_event = (
        select(func.max(Event.seq))
        .where(Event.device_id == Device.id)
        .correlate(Device)
        .scalar_subquery()
    )
    # When its newest event arrived (one index step: events by device and number).
    last_push = (
        select(Event.received_at)
        .where(Event.device_id == Device.id)
        .order_by(Event.seq.desc())
        .limit(1)
        .correlate(Device)
        .scalar_subquery()
    )
    revoker = aliased(StaffUser)
    rows = s.execute(
        select(
            Device.id,
            Device.name,
            Site.name,
            Device.app_version,
            Device.enrolled_at,
            Device.last_seen_at,
            last_push,
            last_event,
            waiting,
            Device.revoked_at,
            revoker.username,
        )
        .join(Site, Site.id == Device.site_id)
        .outerjoin(revoker, revoker.id == Device.revoked_by)
        .where(force_filter(staff, Device.force_id))
        .order_by(Device.revoked_at.is_not(None), Site.name, Device.name, Device.id)
    )
    return [
        DeviceRow(
            id=device_id,
            name=name,
            site=site,
            app_version=version,
            enrolled_at=enrolled,
            last_sync=max((t for t in (seen, pushed) if t is not None), default=None),
            last_event=last,
            waiting=waiting_count,
            revoked_at=revoked_at,
            revoked_by=revoked_by,
        )
        for (
            device_id,
            name,
            site,
            version,
            enrolled,
            seen,
            pushed,
            last,
            waiting_count,
            revoked_at,
            revoked_by,
        ) in rows
    ]


def sites(s: Session, *, staff: Staff) -> list[tuple[str, str]]:
    return [
        (site_id, name)
        for site_id, name in s.execute(
            select(Site.id, Site.name)
            .where(force_filter(staff, Site.force_id))
            .order_by(Site.name, Site.id)
        )
    ]


def qr_data_uri(text: str) -> str:
    """The text as a QR code, an SVG data: URI for an <img> (the policy allows data: images
    and no inline SVG script or style)."""
    return segno.make(text, error="m").svg_data_uri(scale=8, border=2)


def _page(
    request: Request, staff: Staff, *, error: str = "", revoked: str = "", status_code: int = 200
) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions() as s:
        devices, choices = listing(s, staff=staff), sites(s, staff=staff)
    # After a revocation: the device named from the database, never echoed from the address.
    name = next((d.name for d in devices if revoked and d.id == revoked and d.revoked_at), None)
    notice = f"{name} is revoked: it will erase its data when it next connects." if name else ""
    return render(
        "devices.html",
        staff=staff,
        zone=runtime.settings.dashboard_timezone,
        status_code=status_code,
        devices=devices,
        sites=choices,
        error=error,
        notice=notice,
    )


@router.get("")
def devices_page(request: Request, staff: Caseworker) -> Response:
    return _page(request, staff, revoked=request.query_params.get("revoked", "")[:36])


@router.post("/codes")
def issue_code(request: Request, staff: Caseworker, form: CheckedForm) -> Response:
    runtime = runtime_of(request)
    site_id = field(form, "site")[:40]
    at = now()
    lifetime = runtime.settings.enrolment_code_lifetime
    code, site_name = None, ""
    with runtime.sessions.begin() as s:
        site = s.get(Site, site_id)
        if site is not None and may_see_force(staff, site.force_id):
            site_name = site.name
            code = enrolment.issue_code(
                s, site_id=site.id, created_by=staff.id, now=at, lifetime=lifetime
            )
    if code is None:
        return _page(request, staff, error="Choose one of your force's sites.", status_code=400)
    return render(
        "device_code.html",
        staff=staff,
        zone=runtime.settings.dashboard_timezone,
        code=code,
        qr=qr_data_uri(code),
        site_name=site_name,
        expires_at=at + lifetime,
    )


def _device(s: Session, staff: Staff, device_id: str) -> Device:
    device = s.get(Device, device_id[:36])
    if device is None or not may_see_force(staff, device.force_id):
        raise not_found("device", staff)
    return device


@router.get("/{device_id}/revoke")
def confirm_revoke(request: Request, device_id: str, staff: Caseworker) -> Response:
    with runtime_of(request).sessions() as s:
        found = next((d for d in listing(s, staff=staff) if d.id == device_id), None)
    if found is None:
        raise not_found("device", staff)
    return confirm_page(request, staff, "device_revoke.html", device=found)


@router.post("/{device_id}/revoke")
def revoke(request: Request, device_id: str, staff: Caseworker, _form: CheckedForm) -> Response:
    def revoke_it(s: Session, at: datetime) -> str:
        device = _device(s, staff, device_id)
        if device.revoked_at is None:
            # From now on every request it signs is answered 401 device_revoked, which tells
            # the kiosk to erase its local data.
            device.revoked_at = at
            device.revoked_by = staff.id
            audit_as(
                s,
                staff,
                "device.revoked",
                at=at,
                subject=f"device:{device.id}",
                force_id=device.force_id,
                details={"site": device.site_id},
            )
        return f"{PATH}?{urlencode({'revoked': device_id})}"

    return carry_out(request, revoke_it)
