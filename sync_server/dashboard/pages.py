"""The dashboard's pages: overview, participants, a participant's record, the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from sync_server.dashboard import auditlog, overview, participants, record
from sync_server.dashboard.access import not_found, now, require
from sync_server.dashboard.auth import Staff
from sync_server.dashboard.casework import audit_as, local_today
from sync_server.dashboard.templating import (
    ADMIN_ROLES,
    ALL_ROLES,
    CASEWORK_ROLES,
    PREFIX,
    render,
)
from sync_server.runtime import runtime_of

router = APIRouter(prefix=PREFIX, include_in_schema=False)

AnyStaff = Annotated[Staff, Depends(require(ALL_ROLES))]
Caseworker = Annotated[Staff, Depends(require(CASEWORK_ROLES))]
Admin = Annotated[Staff, Depends(require(ADMIN_ROLES))]


@router.get("/")
def overview_page(request: Request, staff: AnyStaff) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions() as s:
        figures = overview.overview(s, staff=staff, today=local_today(runtime, now()))
    return render(
        "overview.html",
        staff=staff,
        zone=runtime.settings.dashboard_timezone,
        figures=figures,
    )


@router.get("/participants")
def participants_page(request: Request, staff: Caseworker) -> Response:
    runtime = runtime_of(request)
    filters, errors = participants.parse_filters(request.query_params)
    at = now()
    with runtime.sessions.begin() as s:
        listing = participants.search(
            s, staff=staff, filters=filters, today=local_today(runtime, at)
        )
        programmes, sites = participants.choices(s, staff=staff)
        # Which records a list exposed to whom: ids only, never the search text or names.
        shown = sorted({row.participant_id for row in listing.rows})
        audit_as(
            s, staff, "participants.listed", at=at, details={"page": filters.page, "shown": shown}
        )
    return render(
        "participants.html",
        staff=staff,
        zone=runtime.settings.dashboard_timezone,
        listing=listing,
        errors=errors,
        statuses=participants.STATUSES,
        programmes=programmes,
        sites=sites,
        params=filters.as_params(),
    )


@router.get("/participants/{participant_id}")
def participant_page(request: Request, participant_id: str, staff: Caseworker) -> Response:
    runtime = runtime_of(request)
    at = now()
    with runtime.sessions.begin() as s:
        found = record.view_participant(
            s, staff=staff, participant_id=participant_id, today=local_today(runtime, at), now=at
        )
    if found is None:
        raise not_found("participant", staff)
    return render(
        "participant.html",
        staff=staff,
        zone=runtime.settings.dashboard_timezone,
        record=found,
        max_timeline=record.MAX_TIMELINE,
    )


@router.get("/audit")
def audit_page(request: Request, staff: Admin) -> Response:
    runtime = runtime_of(request)
    filters, errors = auditlog.parse_filters(request.query_params)
    with runtime.sessions() as s:
        page = auditlog.search(
            s, staff=staff, filters=filters, zone=runtime.settings.dashboard_timezone
        )
    return render(
        "audit.html",
        staff=staff,
        zone=runtime.settings.dashboard_timezone,
        page=page,
        errors=errors,
        params=filters.as_params(),
    )
