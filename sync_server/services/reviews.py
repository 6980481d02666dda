"""Officer review of reflections and letters: which submission awaits a verdict, recording a
verdict so the participant's kiosk pulls it, and the review events the completion rules read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from content_packs.model import Event as RuleEvent
from content_packs.model import LetterStep, Programme, ReflectionStep
from content_packs.progress import ReviewState, count_words, progress
from sync_server import models, protocol
from sync_server.services.changes import record_change

if TYPE_CHECKING:
    # Only a type here, so effects may import this module (for `rule_events`) in turn.
    from sync_server.services.effects import Programmes

VERDICTS: tuple[protocol.ReviewVerdictKind, ...] = ("accepted", "returned")
MAX_COMMENT_LENGTH = 2000
# The event type each reviewed step is submitted with.
_SUBMITTED = {ReflectionStep: "reflection.submitted", LetterStep: "letter.submitted"}
SUBMISSION_TYPES = tuple(_SUBMITTED.values())


class ReviewError(Exception):
    """A verdict that cannot be recorded; the message says why, in one sentence."""


@dataclass(frozen=True)
class Submission:
    """A reflection or letter as stored, with its verdict if it has one."""

    id: str
    enrolment_id: str
    step_id: str
    text: str
    words: int
    occurred_at: datetime
    received_at: datetime
    review: models.Review | None


@dataclass
class StepReview:
    """Where one reviewed step of one enrolment stands, by the completion rules."""

    enrolment_id: str
    step: ReflectionStep | LetterStep
    state: ReviewState
    # The submission the officer judges: the latest one long enough to count.
    current: Submission | None
    # Every submission of the step, oldest first, with its verdict.
    history: list[Submission] = field(default_factory=list)


def review_rule_event(review: models.Review) -> RuleEvent:
    return protocol.review_rule_event(
        submission_id=review.submission_event_id,
        step_id=review.step_id,
        verdict=review.verdict,
        reviewed_at=review.at,
    )


def rule_events(s: Session, enrolment_ids: Sequence[str]) -> dict[str, list[RuleEvent]]:
    """Each enrolment's verdicts as the events `content_packs.progress` reads beside the
    pushed ones: add them wherever the server computes progress, so a returned piece is
    reported returned (`returned_for_changes`) and an accepted one accepted."""
    found: dict[str, list[RuleEvent]] = defaultdict(list)
    for review in s.scalars(
        select(models.Review).where(models.Review.enrolment_id.in_(list(enrolment_ids)))
    ):
        found[review.enrolment_id].append(review_rule_event(review))
    return found


def reviewed_steps(programme: Programme) -> list[ReflectionStep | LetterStep]:
    """The steps an officer reads: reflections marked for review, and every letter."""
    return [
        step
        for step in programme.all_steps()
        if isinstance(step, ReflectionStep | LetterStep) and step.needs_review
    ]


def step_reviews(
    s: Session, *, programmes: Programmes, enrolments: Iterable[models.Enrolment]
) -> dict[tuple[str, str], StepReview]:
    """The review standing of every reviewed step of these enrolments, keyed (enrolment id,
    step id), from their stored submissions and verdicts in two queries."""
    wanted = {e.id: e for e in enrolments if e.programme_version is not None}
    if not wanted:
        return {}
    parsed = programmes.of(
        s, {(e.programme_id, e.programme_version) for e in wanted.values() if e.programme_version}
    )
    reviews = {
        r.submission_event_id: r
        for r in s.scalars(
            select(models.Review).where(models.Review.enrolment_id.in_(list(wanted)))
        )
    }
    events: dict[str, list[models.Event]] = defaultdict(list)
    for event in s.scalars(
        select(models.Event)
        .where(
            models.Event.enrolment_id.in_(list(wanted)),
            # Inline values, so the partial index over reflections and letters can serve.
            models.Event.type.in_([literal(t, literal_execute=True) for t in SUBMISSION_TYPES]),
        )
        .order_by(models.Event.occurred_at, models.Event.id)
    ):
        events[event.enrolment_id or ""].append(event)
    result: dict[tuple[str, str], StepReview] = {}
    for enrolment in wanted.values():
        assert enrolment.programme_version is not None
        programme = parsed.get((enrolment.programme_id, enrolment.programme_version))
        if programme is not None:
            for step_review in _standing(programme, enrolment.id, events[enrolment.id], reviews):
                result[(enrolment.id, step_review.step.id)] = step_review
    return result


def _standing(
    programme: Programme,
    enrolment_id: str,
    events: list[models.Event],
    reviews: dict[str, models.Review],
) -> list[StepReview]:
    # A step's review state depends only on its own submissions and verdicts (never on
    # locks or other steps), so the rules are run over just those events.
    rule_events = [
        RuleEvent(id=e.id, type=e.type, step_id=e.step_id, occurred_at=e.occurred_at, data=e.data)
        for e in events
    ]
    rule_events += [review_rule_event(reviews[e.id]) for e in events if e.id in reviews]
    result = progress(programme, rule_events)
    standings = []
    for step in reviewed_steps(programme):
        history = [
            _submission(e, reviews.get(e.id))
            for e in events
            if e.step_id == step.id and e.type == _SUBMITTED[type(step)]
        ]
        # The same choice the rules make: the latest submission with enough words.
        counted = [h for h in history if h.words >= step.min_words]
        standings.append(
            StepReview(
                enrolment_id=enrolment_id,
                step=step,
                state=result.step(step.id).review,
                current=counted[-1] if counted else None,
                history=history,
            )
        )
    return standings


def _submission(event: models.Event, review: models.Review | None) -> Submission:
    text = event.data.get("text")
    body = text if isinstance(text, str) else ""
    return Submission(
        id=event.id,
        enrolment_id=event.enrolment_id or "",
        step_id=event.step_id or "",
        text=body,
        words=count_words(body) if isinstance(text, str) else -1,
        occurred_at=event.occurred_at,
        received_at=event.received_at,
        review=review,
    )


def clean_comment(raw: str) -> str:
    """The comment as stored and sent: line breaks normalised, ends trimmed, checked."""
    comment = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise ReviewError(f"The comment is longer than {MAX_COMMENT_LENGTH} characters.")
    if any((ord(c) < 0x20 and c not in "\t\n") or ord(c) == 0x7F for c in comment):
        raise ReviewError("The comment contains a control character.")
    return comment


def record_verdict(
    s: Session,
    *,
    programmes: Programmes,
    enrolment: models.Enrolment,
    submission_id: str,
    verdict: str,
    comment: str,
    reviewer_id: int,
    now: datetime,
) -> models.Review:
    """Record an officer's verdict on the submission awaiting review, and log the change the
    participant's kiosks pull. Call under `writelock.begin_decision`; ReviewError if refused."""
    if verdict not in VERDICTS:
        raise ReviewError("Choose to accept the piece or to return it.")
    comment = clean_comment(comment)
    if verdict == "returned" and not comment:
        raise ReviewError("Write a comment saying what to change before returning the piece.")
    if enrolment.status == models.EnrolmentStatus.WITHDRAWN:
        raise ReviewError("This enrolment is closed, so its work is no longer reviewed.")
    standing = next(
        (
            r
            for r in step_reviews(s, programmes=programmes, enrolments=[enrolment]).values()
            if any(h.id == submission_id for h in r.history)
        ),
        None,
    )
    if standing is None:
        raise ReviewError("This is not a piece of work that an officer reviews.")
    if any(h.id == submission_id and h.review is not None for h in standing.history):
        raise ReviewError("A verdict on this piece has already been recorded.")
    if standing.current is None or standing.current.id != submission_id:
        raise ReviewError("The participant has sent a newer version; review that one instead.")
    review = models.Review(
        enrolment_id=enrolment.id,
        submission_event_id=submission_id,
        step_id=standing.step.id,
        reviewer_id=reviewer_id,
        verdict=verdict,
        comment=comment,
        at=now,
    )
    s.add(review)
    record_change(
        s,
        kind=models.ChangeKind.REVIEW,
        entity_id=submission_id,
        force_id=enrolment.force_id,
        site_id=enrolment.site_id,
        at=now,
    )
    s.flush()
    return review
