"""The review queue: reflections and letters awaiting an officer, oldest first, in the staff
member's force, and one piece of work with its step's history of submissions and verdicts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, literal, select, tuple_
from sqlalchemy.orm import Session, aliased

from content_packs.model import LetterStep
from content_packs.progress import ReviewState
from sync_server.dashboard.auth import Staff
from sync_server.dashboard.casework import audit_as, programme_titles
from sync_server.dashboard.evidence import REVIEW_LABELS
from sync_server.dashboard.models import WRITINGS
from sync_server.dashboard.scope import force_filter, may_see_force
from sync_server.models import (
    Enrolment,
    EnrolmentStatus,
    Event,
    Participant,
    Review,
    StaffUser,
)
from sync_server.services import reviews
from sync_server.services.effects import Programmes
from sync_server.services.reviews import StepReview, Submission

PAGE_SIZE = 50
# Enrolments with unjudged work read per visit; a queue this long says so on the page.
MAX_CANDIDATES = 2000


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
