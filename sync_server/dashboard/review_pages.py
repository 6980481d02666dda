"""The review pages: the queue, one piece of work, and the verdict form that accepts it or
returns it with a comment the participant's kiosk shows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from sync_server.dashboard.access import CheckedForm, field, not_found, now, require
from sync_server.dashboard.auth import Staff
from sync_server.dashboard.casework import audit_as, page_number
from sync_server.dashboard.review import ReviewItem, find_item, queue
from sync_server.dashboard.templating import CASEWORK_ROLES, PREFIX, render
from sync_server.models import Review
from sync_server.runtime import Runtime, runtime_of
from sync_server.services import reviews
from sync_server.services.reviews import ReviewError
from sync_server.services.writelock import begin_decision

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Caseworker = Annotated[Staff, Depends(require(CASEWORK_ROLES))]

NOTICES = {
    "accepted": "Accepted. The participant will see this at their next login.",
    "returned": "Returned with your comment. The participant will see it at their next login.",
}


@router.get("/review")
def queue_page(request: Request, staff: Caseworker) -> Response:
    runtime = runtime_of(request)
    at = now()
    page = page_number(request.query_params.get("page"))
    with runtime.sessions.begin() as s:
        found = queue(s, staff=staff, programmes=runtime.programmes, page=page)
        # Which people's work a list exposed to whom: ids only, never the text.
        audit_as(
            s,
            staff,
            "review_queue.listed",
            subject=None,
            at=at,
            details={"page": page, "shown": sorted({i.participant_id for i in found.items})},
        )
    return render(
        "review.html",
        staff=staff,
        zone=runtime.settings.dashboard_timezone,
        queue=found,
        notice=NOTICES.get(request.query_params.get("decided", ""), ""),
    )


def _item_page(
    runtime: Runtime,
    staff: Staff,
    item: ReviewItem,
    *,
    status_code: int = 200,
    error: str = "",
    comment: str = "",
) -> Response:
    return render(
        "review_item.html",
        staff=staff,
        zone=runtime.settings.dashboard_timezone,
        status_code=status_code,
        item=item,
        error=error,
        comment=comment,
        max_comment=reviews.MAX_COMMENT_LENGTH,
    )


@router.get("/review/{submission_id}")
def item_page(request: Request, submission_id: str, staff: Caseworker) -> Response:
    runtime = runtime_of(request)
    at = now()
    with runtime.sessions.begin() as s:
        item = find_item(
            s, staff=staff, programmes=runtime.programmes, submission_id=submission_id, at=at
        )
        if item is not None:
            audit_as(
                s,
                staff,
                "review.viewed",
                subject=item.participant.id,
                force_id=item.enrolment.force_id,
                at=at,
                details={"enrolment": item.enrolment.id, "submission": item.submission.id},
            )
    if item is None:
        raise not_found("piece of work", staff)
    return _item_page(runtime, staff, item)


@router.post("/review/{submission_id}")
def decide(
    request: Request,
    submission_id: str,
    staff: Caseworker,
    form: CheckedForm,
) -> Response:
    runtime = runtime_of(request)
    verdict, comment = field(form, "verdict"), field(form, "comment")
    at = now()
    with runtime.sessions.begin() as s:
        begin_decision(s)
        item = find_item(
            s, staff=staff, programmes=runtime.programmes, submission_id=submission_id, at=at
        )
        if item is None:
            # Answered after the transaction, so the refusal's audit entry is kept.
            refused, review = "", None
        else:
            refused, review = _record(s, runtime, staff, item, verdict, comment, at)
    if item is None:
        raise not_found("piece of work", staff)
    if review is None:
        # Drawn again from what was stored before the refusal, with what was typed kept.
        return _item_page(
            runtime,
            staff,
            item,
            status_code=400 if item.open else 409,
            error=refused,
            comment=comment[: reviews.MAX_COMMENT_LENGTH],
        )
    return RedirectResponse(
        f"{PREFIX}/review?{urlencode({'decided': review.verdict})}", status_code=303
    )


def _record(
    s: Session,
    runtime: Runtime,
    staff: Staff,
    item: ReviewItem,
    verdict: str,
    comment: str,
    at: datetime,
) -> tuple[str, Review | None]:
    """(why it was refused, or the verdict recorded and audited)."""
    try:
        review = reviews.record_verdict(
            s,
            programmes=runtime.programmes,
            enrolment=item.enrolment,
            submission_id=item.submission.id,
            verdict=verdict,
            comment=comment,
            reviewer_id=staff.id,
            now=at,
        )
    except ReviewError as exc:
        return str(exc), None
    audit_as(
        s,
        staff,
        f"review.{review.verdict}",
        subject=item.participant.id,
        force_id=item.enrolment.force_id,
        at=at,
        details={
            "enrolment": item.enrolment.id,
            "submission": item.submission.id,
            "step": review.step_id,
            "review": review.id,
        },
    )
    return "", review
