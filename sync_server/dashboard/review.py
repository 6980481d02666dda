"""The review queue: reflections and letters awaiting an officer, oldest first, in the staff
member's force; each is accepted, or returned with a comment the participant's kiosk shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from sqlalchemy import ColumnElement, exists, func, literal, select, tuple_
from sqlalchemy.orm import Session, aliased
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from content_packs.model import LetterStep
from content_packs.progress import ReviewState
from sync_server.dashboard.access import checked_form, field, not_found, now, require
from sync_server.dashboard.auth import Staff
from sync_server.dashboard.casework import audit_as, programme_titles
from sync_server.dashboard.evidence import REVIEW_LABELS
from sync_server.dashboard.models import WRITINGS
from sync_server.dashboard.scope import force_filter, may_see_force
from sync_server.dashboard.templating import CASEWORK_ROLES, PREFIX, render
from sync_server.models import (
    Enrolment,
    EnrolmentStatus,
    Event,
    Participant,
    Review,
    StaffUser,
)
from sync_server.runtime import Runtime, runtime_of
from sync_server.services import reviews
from sync_server.services.effects import Programmes
from sync_server.services.reviews import ReviewError, StepReview, Submission
from sync_server.services.writelock import begin_decision

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Caseworker = Annotated[Staff, Depends(require(CASEWORK_ROLES))]

PAGE_SIZE = 50
# Enrolments with unjudged work read per visit; a queue this long says so on the page.
MAX_CANDIDATES = 2000
NOTICES = {
    "accepted": "Accepted. The participant will see this at their next login.",
    "returned": "Returned with your comment. The participant will see it at their next login.",
}


@dataclass(frozen=True)
class QueueItem:
    submission: Submission
    kind: str
    step_title: str
    enrolment_id: str
    participant_id: str
    first_name: str
    surname: str | None
    programme_title: str
    # How often this step was returned before: a resubmission after changes.
    returns: int


@dataclass(frozen=True)
class Queue:
    items: list[QueueItem]
    total: int
    page: int
    capped: bool

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def _is_writing(column: Any) -> ColumnElement[bool]:
    # The values inline, not bound: only a literal match lets the planners use the partial
    # index over reflections and letters.
    result: ColumnElement[bool] = column.in_([literal(t, literal_execute=True) for t in WRITINGS])
    return result


def _candidates(s: Session, staff: Staff) -> list[str]:
    """Enrolments with a submission that has no verdict and no later submission of its step,
    those waiting longest first; the rules then say which really await a verdict."""
    later = aliased(Event)
    newer = exists().where(
        _is_writing(later.type),
        later.enrolment_id == Event.enrolment_id,
        later.step_id == Event.step_id,
        later.type == Event.type,
        tuple_(later.occurred_at, later.id) > tuple_(Event.occurred_at, Event.id),
    )
    first = func.min(Event.received_at)
    rows = s.execute(
        select(Event.enrolment_id, first)
        .join(Enrolment, Enrolment.id == Event.enrolment_id)
        .where(
            _is_writing(Event.type),
            force_filter(staff, Enrolment.force_id),
            Enrolment.status != EnrolmentStatus.WITHDRAWN.value,
            ~exists().where(Review.submission_event_id == Event.id),
            ~newer,
        )
        .group_by(Event.enrolment_id)
        .order_by(first, Event.enrolment_id)
        .limit(MAX_CANDIDATES + 1)
    )
    return [enrolment_id for enrolment_id, _ in rows if enrolment_id is not None]


def queue(s: Session, *, staff: Staff, programmes: Programmes, page: int) -> Queue:
    candidates = _candidates(s, staff)
    capped = len(candidates) > MAX_CANDIDATES
    found = s.execute(
        select(Enrolment, Participant)
        .join(Participant, Participant.id == Enrolment.participant_id)
        .where(Enrolment.id.in_(candidates[:MAX_CANDIDATES]))
    ).all()
    people = {enrolment.id: (enrolment, participant) for enrolment, participant in found}
    standings = reviews.step_reviews(
        s, programmes=programmes, enrolments=[e for e, _ in people.values()]
    )
    names = programme_titles(s, {e.programme_id for e, _ in people.values()})
    items = []
    for (enrolment_id, _), standing in standings.items():
        if standing.state is not ReviewState.AWAITING or standing.current is None:
            continue
        enrolment, participant = people[enrolment_id]
        items.append(
            QueueItem(
                submission=standing.current,
                kind=_kind(standing),
                step_title=standing.step.title,
                enrolment_id=enrolment.id,
                participant_id=participant.id,
                first_name=participant.first_name,
                surname=participant.surname,
                programme_title=names.get(enrolment.programme_id, enrolment.programme_id),
                returns=sum(
                    h.review is not None and h.review.verdict == "returned"
                    for h in standing.history
                ),
            )
        )
    # Arrival on the server first; a batch arrives at one instant, so then the kiosk's order.
    items.sort(key=lambda i: (i.submission.received_at, i.submission.occurred_at, i.submission.id))
    start = (page - 1) * PAGE_SIZE
    return Queue(items[start : start + PAGE_SIZE], len(items), page, capped)


def _kind(standing: StepReview) -> str:
    return "Letter" if isinstance(standing.step, LetterStep) else "Reflection"


@dataclass(frozen=True)
class ReviewItem:
    submission: Submission
    standing: StepReview
    enrolment: Enrolment
    participant: Participant
    programme_title: str
    reviewers: dict[int, str]

    @property
    def kind(self) -> str:
        return _kind(self.standing)

    @property
    def state_label(self) -> str:
        return REVIEW_LABELS[self.standing.state]

    @property
    def open(self) -> bool:
        """Whether this submission is the one awaiting a verdict now."""
        current = self.standing.current
        return (
            self.standing.state is ReviewState.AWAITING
            and current is not None
            and current.id == self.submission.id
            and self.enrolment.status != EnrolmentStatus.WITHDRAWN
        )


def _load(s: Session, submission_id: str) -> tuple[Event, Enrolment, Participant] | None:
    found = s.execute(
        select(Event, Enrolment, Participant)
        .join(Enrolment, Enrolment.id == Event.enrolment_id)
        .join(Participant, Participant.id == Enrolment.participant_id)
        .where(Event.id == submission_id[:36], Event.type.in_(WRITINGS))
    ).one_or_none()
    return None if found is None else (found[0], found[1], found[2])


def find_item(
    s: Session, *, staff: Staff, programmes: Programmes, submission_id: str, at: datetime
) -> ReviewItem | None:
    """The submission with its step's history, if `staff` may see it (a refusal is audited;
    another force's work answers exactly as missing work does)."""
    found = _load(s, submission_id)
    if found is None or not may_see_force(staff, found[1].force_id):
        audit_as(s, staff, "review.view_refused", subject=submission_id[:80], at=at)
        return None
    event, enrolment, participant = found
    standing = reviews.step_reviews(s, programmes=programmes, enrolments=[enrolment]).get(
        (enrolment.id, event.step_id or "")
    )
    submission = next((h for h in standing.history if h.id == event.id), None) if standing else None
    if standing is None or submission is None:
        audit_as(s, staff, "review.view_refused", subject=submission_id[:80], at=at)
        return None
    reviewer_ids = {h.review.reviewer_id for h in standing.history if h.review is not None}
    reviewers = dict(
        s.execute(
            select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(reviewer_ids))
        ).all()
    )
    programme = enrolment.programme_id
    title = programme_titles(s, [programme]).get(programme, programme)
    return ReviewItem(submission, standing, enrolment, participant, title, reviewers)


def _page_number(raw: str) -> int:
    return max(int(raw), 1) if raw.isdigit() and len(raw) <= 6 else 1


def _zone(runtime: Runtime) -> str:
    return runtime.settings.dashboard_timezone


@router.get("/review")
def queue_page(request: Request, staff: Caseworker) -> Response:
    runtime = runtime_of(request)
    at = now()
    page = _page_number(request.query_params.get("page", "1"))
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
        zone=_zone(runtime),
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
        zone=_zone(runtime),
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
    form: Annotated[FormData, Depends(checked_form)],
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
