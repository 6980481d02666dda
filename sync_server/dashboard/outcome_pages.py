"""The deadlines, outcomes and evaluation pages: lists, an enrolment's outcomes with the forms
that record them, the reports and their CSV downloads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from sync_server.dashboard import deadlines, evaluation, outcome_forms, reoffending
from sync_server.dashboard.access import CheckedForm, field, not_found, now, require
from sync_server.dashboard.auth import Staff
from sync_server.dashboard.casework import (
    audit_as,
    local_today,
    page_number,
    programme_titles,
)
from sync_server.dashboard.overview import ACTIVE
from sync_server.dashboard.scope import may_see_force
from sync_server.dashboard.templating import ALL_ROLES, CASEWORK_ROLES, PREFIX, render
from sync_server.models import Enrolment, Participant, ReoffendingRecord, StaffUser
from sync_server.runtime import Runtime, runtime_of
from sync_server.services.writelock import begin_decision

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Caseworker = Annotated[Staff, Depends(require(CASEWORK_ROLES))]
AnyStaff = Annotated[Staff, Depends(require(ALL_ROLES))]

NOTICES = {
    "deadline": "The outcome is recorded.",
    "reoffending": "The reoffending check is recorded.",
}


def _zone(runtime: Runtime) -> str:
    return runtime.settings.dashboard_timezone


@router.get("/deadlines")
def deadlines_page(request: Request, staff: Caseworker) -> Response:
    runtime = runtime_of(request)
    at = now()
    with runtime.sessions.begin() as s:
        found = deadlines.deadlines(
            s, staff=staff, today=local_today(runtime, at), zone=_zone(runtime)
        )
        shown = {
            row.enrolment.participant_id
            for listing in (found.overdue, found.at_risk, found.late)
            for row in listing.rows
        }
        audit_as(s, staff, "deadlines.listed", at=at, details={"shown": sorted(shown)})
    return render(
        "deadlines.html",
        staff=staff,
        zone=_zone(runtime),
        found=found,
        at_risk_percent=deadlines.AT_RISK_PERCENT,
        max_rows=deadlines.MAX_ROWS,
    )


@dataclass(frozen=True)
class EnrolmentOutcomes:
    enrolment: Enrolment
    participant: Participant
    programme_title: str
    late: bool
    overdue: bool
    actions: list[deadlines.Action]
    allowed: list[str]
    standing: reoffending.Standing
    elapsed: dict[int, bool]
    records: dict[int, tuple[ReoffendingRecord, str]]


def _outcomes(
    s: Session, runtime: Runtime, staff: Staff, enrolment_id: str, at: datetime
) -> EnrolmentOutcomes | None:
    """The enrolment's outcomes if `staff` may see them; a refusal is audited, and another
    force's enrolment answers exactly as a missing one does."""
    found = s.execute(
        select(Enrolment, Participant)
        .join(Participant, Participant.id == Enrolment.participant_id)
        .where(Enrolment.id == enrolment_id[:36])
    ).one_or_none()
    if found is None or not may_see_force(staff, found[0].force_id):
        audit_as(s, staff, "outcomes.view_refused", at=at, subject=enrolment_id[:80])
        return None
    enrolment, participant = found
    zone, today = _zone(runtime), local_today(runtime, at)
    actions = deadlines.history(s, [enrolment.id]).get(enrolment.id, [])
    records = {
        record.months: (record, by)
        for record, by in s.execute(
            select(ReoffendingRecord, StaffUser.display_name)
            .join(StaffUser, StaffUser.id == ReoffendingRecord.recorded_by)
            .where(ReoffendingRecord.enrolment_id == enrolment.id)
        )
    }
    return EnrolmentOutcomes(
        enrolment=enrolment,
        participant=participant,
        programme_title=programme_titles(s, {enrolment.programme_id}).get(
            enrolment.programme_id, enrolment.programme_id
        ),
        late=deadlines.completed_late(enrolment, zone),
        overdue=enrolment.status in ACTIVE and enrolment.due_date < today,
        actions=actions,
        allowed=deadlines.allowed(enrolment, today=today, zone=zone, done=actions),
        standing=reoffending.standing({m: r.reoffended for m, (r, _) in records.items()}),
        elapsed={
            n: reoffending.elapsed(enrolment, n, today=today, zone=zone)
            for n in reoffending.WINDOWS
        },
        records=records,
    )


def _outcomes_page(
    runtime: Runtime,
    staff: Staff,
    found: EnrolmentOutcomes,
    *,
    status_code: int = 200,
    notice: str = "",
    error: str = "",
    form: dict[str, str] | None = None,
) -> Response:
    return render(
        "outcomes_enrolment.html",
        staff=staff,
        zone=_zone(runtime),
        status_code=status_code,
        found=found,
        labels=deadlines.LABELS,
        windows=reoffending.WINDOWS,
        notice=notice,
        error=error,
        form=form or {},
    )


def _audit_enrolment(
    s: Session,
    staff: Staff,
    found: EnrolmentOutcomes,
    action: str,
    at: datetime,
    details: Mapping[str, object] | None = None,
) -> None:
    audit_as(
        s,
        staff,
        action,
        at=at,
        subject=found.participant.id,
        force_id=found.enrolment.force_id,
        details={"enrolment": found.enrolment.id, **(details or {})},
    )


@router.get("/outcomes/{enrolment_id}")
def enrolment_outcomes_page(request: Request, enrolment_id: str, staff: Caseworker) -> Response:
    runtime = runtime_of(request)
    at = now()
    with runtime.sessions.begin() as s:
        found = _outcomes(s, runtime, staff, enrolment_id, at)
        if found is not None:
            _audit_enrolment(s, staff, found, "outcomes.viewed", at)
    if found is None:
        raise not_found("enrolment", staff)
    notice = NOTICES.get(request.query_params.get("recorded", ""), "")
    return _outcomes_page(runtime, staff, found, notice=notice)


def _record(
    request: Request, staff: Staff, enrolment_id: str, form: FormData, what: str
) -> Response:
    """Read one outcome form, check and write it under the decision lock and audit it; a
    refused one is shown again (400) with why and what was typed."""
    names, write = outcome_forms.FORMS[what]
    runtime = runtime_of(request)
    typed = {name: field(form, name) for name in names}
    at = now()
    error = ""
    with runtime.sessions.begin() as s:
        begin_decision(s)
        found = _outcomes(s, runtime, staff, enrolment_id, at)
        if found is not None:
            entry = outcome_forms.Entry(
                found.enrolment, typed, staff.id, local_today(runtime, at), _zone(runtime), at
            )
            try:
                action, details = write(s, entry)
            except outcome_forms.REFUSALS as exc:
                error = str(exc)
            else:
                _audit_enrolment(s, staff, found, action, at, details)
    if found is None:
        raise not_found("enrolment", staff)
    if error:
        return _outcomes_page(runtime, staff, found, status_code=400, error=error, form=typed)
    return RedirectResponse(
        f"{PREFIX}/outcomes/{enrolment_id}?{urlencode({'recorded': what})}", status_code=303
    )


@router.post("/outcomes/{enrolment_id}/deadline")
def record_deadline_outcome(
    request: Request,
    enrolment_id: str,
    staff: Caseworker,
    form: CheckedForm,
) -> Response:
    return _record(request, staff, enrolment_id, form, "deadline")


@router.post("/outcomes/{enrolment_id}/reoffending")
def record_reoffending(
    request: Request,
    enrolment_id: str,
    staff: Caseworker,
    form: CheckedForm,
) -> Response:
    return _record(request, staff, enrolment_id, form, "reoffending")


@router.get("/outcomes")
def outcomes_page(request: Request, staff: Caseworker) -> Response:
    runtime = runtime_of(request)
    at = now()
    page = page_number(request.query_params.get("page"))
    only_due = request.query_params.get("show", "due") != "all"
    with runtime.sessions.begin() as s:
        found = reoffending.checks(
            s,
            staff=staff,
            today=local_today(runtime, at),
            zone=_zone(runtime),
            only_due=only_due,
            page=page,
        )
        shown = sorted({row.enrolment.participant_id for row in found.rows})
        audit_as(s, staff, "outcomes.listed", at=at, details={"page": page, "shown": shown})
    return render(
        "outcomes.html",
        staff=staff,
        zone=_zone(runtime),
        found=found,
        windows=reoffending.WINDOWS,
        params={} if only_due else {"show": "all"},
    )


@router.get("/evaluation")
def evaluation_page(request: Request, staff: AnyStaff) -> Response:
    runtime = runtime_of(request)
    at = now()
    with runtime.sessions() as s:
        report = evaluation.report(
            s, staff=staff, today=local_today(runtime, at), zone=_zone(runtime)
        )
    return render(
        "evaluation.html",
        staff=staff,
        zone=_zone(runtime),
        report=report,
        breakdowns=evaluation.BREAKDOWNS,
        headings=evaluation.HEADINGS,
        trial=(evaluation.TRIAL_COMPLETION, evaluation.TRIAL_REOFFENDING),
    )


@router.get("/evaluation/{breakdown}.csv")
def evaluation_csv(request: Request, breakdown: str, staff: AnyStaff) -> Response:
    if breakdown not in evaluation.BREAKDOWNS:
        raise not_found("report", staff)
    runtime = runtime_of(request)
    at = now()
    today = local_today(runtime, at)
    with runtime.sessions.begin() as s:
        report = evaluation.report(s, staff=staff, today=today, zone=_zone(runtime))
        audit_as(s, staff, "evaluation.exported", at=at, details={"breakdown": breakdown})
    name = f"evaluation-by-{breakdown}-{staff.force_id or 'all-forces'}-{today.isoformat()}.csv"
    return Response(
        evaluation.csv_text(report, breakdown),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )
