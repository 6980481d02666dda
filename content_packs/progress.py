"""Completion rules, in one place: whether a step is done, and progress through a programme."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from content_packs.model import (
    AudioStep,
    CheckpointStep,
    Event,
    Frozen,
    LetterStep,
    PledgeStep,
    Programme,
    QuizStep,
    ReadingStep,
    ReflectionStep,
    Step,
    VideoStep,
)

# A word is a run of Unicode letters or digits (underscore excluded), optionally joined
# by apostrophes, so "don't" is one word and "well-being" two; text is NFC-normalised
# first so a decomposed accent does not split a word.
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")


class StepStatus(StrEnum):
    LOCKED = "locked"
    AVAILABLE = "available"
    COMPLETE = "complete"


class ReviewState(StrEnum):
    NOT_NEEDED = "not-needed"
    NOT_SUBMITTED = "not-submitted"
    AWAITING = "awaiting"
    ACCEPTED = "accepted"
    RETURNED = "returned"


class IgnoredEvent(Frozen):
    event_id: str
    reason: str


class StepProgress(Frozen):
    step_id: str
    required: bool
    status: StepStatus
    review: ReviewState = ReviewState.NOT_NEEDED
    attempts_exhausted: bool = False


class ModuleProgress(Frozen):
    module_id: str
    required: bool
    complete: bool
    percent: int
    steps: tuple[StepProgress, ...]


class ProgrammeProgress(Frozen):
    programme_id: str
    programme_version: int
    complete: bool
    percent: int
    completed_at: datetime | None
    next_step_id: str | None
    modules: tuple[ModuleProgress, ...]
    awaiting_review: tuple[str, ...]
    returned_for_changes: tuple[str, ...]
    ignored_events: tuple[IgnoredEvent, ...]

    def step(self, step_id: str) -> StepProgress:
        """The progress of one step; KeyError if the programme has no such step."""
        for module in self.modules:
            for step in module.steps:
                if step.step_id == step_id:
                    return step
        raise KeyError(step_id)


def count_words(text: str) -> int:
    """The number of words in a participant's text, as the min_words rules count them."""
    return len(_WORD.findall(unicodedata.normalize("NFC", text)))


def step_complete(step: Step, events: Iterable[Event]) -> bool:
    """Whether the step's own rule is met by its events (prerequisites are not considered)."""
    kept, _ = _canonical(events)
    return _evaluate(step, [e for e in kept if e.step_id == step.id]).complete


def progress(programme: Programme, events: Iterable[Event]) -> ProgrammeProgress:
    """The participant's progress through the programme, computed from the event set.

    This is the one place the rules live; the kiosk and the server both call it, so the
    official completion record is the same computation the participant saw.

    How the rules read events (each choice keeps the answer a pure function of the event SET,
    so the order events arrive in, and replays, never change it):

    * Events are de-duplicated by id. Exact copies count once; copies of one id whose content
      differs are all ignored and reported, because neither can be trusted over the other.
    * Events naming a step the programme does not have are ignored and reported.
    * Events for a step that is still locked are held, not dropped: a step counts as complete
      when its own rule is met by its events AND its prerequisites are complete in the same set.
    * The client's own claims (a score, ``step.completed`` on anything but a checkpoint) are
      never trusted: quizzes are scored here from the answers. Each attempt number counts
      once (the earliest claim, by occurred_at then id); attempts above max_attempts are
      ignored and reported.
    * Letters and reflections that need review count as complete once a long-enough text is
      submitted, so the participant is not blocked waiting for an officer; the officer's
      verdict is reported separately (``review``, ``awaiting_review``, ``returned_for_changes``)
      and does not move ``completed_at``. A review event names the submission it judges in
      ``data["submission_id"]``; the latest verdict on the latest long-enough submission counts.
    * ``completed_at`` is the earliest ``occurred_at`` T such that the events at or before T
      already complete the programme. Every rule is monotone in time-prefixes of the set, so
      this is well defined, needs no tie-break beyond the instant itself, and can be found by
      bisection.
    """
    kept, ignored = _canonical(events)
    step_ids = {s.id for s in programme.all_steps()}
    by_step: dict[str, list[Event]] = defaultdict(list)
    for event in kept:
        if event.step_id is None:
            continue
        if event.step_id in step_ids:
            by_step[event.step_id].append(event)
        else:
            ignored.append(IgnoredEvent(event_id=event.id, reason="unknown step id"))
    results = {s.id: _evaluate(s, by_step[s.id]) for s in programme.all_steps()}
    for result in results.values():
        ignored.extend(result.ignored)
    statuses = _statuses(programme, {k: r.complete for k, r in results.items()})

    modules: list[ModuleProgress] = []
    done = total = 0
    for module in programme.modules:
        required = [s for s in module.steps if s.required]
        complete_count = sum(statuses[s.id] is StepStatus.COMPLETE for s in required)
        if module.required:
            done, total = done + complete_count, total + len(required)
        modules.append(
            ModuleProgress(
                module_id=module.id,
                required=module.required,
                complete=complete_count == len(required),
                percent=_percent(complete_count, len(required)),
                steps=tuple(
                    StepProgress(
                        step_id=s.id,
                        required=s.required,
                        status=statuses[s.id],
                        review=results[s.id].review,
                        attempts_exhausted=results[s.id].exhausted,
                    )
                    for s in module.steps
                ),
            )
        )
    complete = all(m.complete for m in modules if m.required)
    return ProgrammeProgress(
        programme_id=programme.id,
        programme_version=programme.version,
        complete=complete,
        percent=_percent(done, total),
        completed_at=_completed_at(programme, by_step) if complete else None,
        next_step_id=_next_step(modules),
        modules=tuple(modules),
        awaiting_review=_with_review(modules, ReviewState.AWAITING),
        returned_for_changes=_with_review(modules, ReviewState.RETURNED),
        ignored_events=tuple(sorted(set(ignored), key=lambda i: (i.event_id, i.reason))),
    )


@dataclass(slots=True)
class _Result:
    complete: bool
    ignored: list[IgnoredEvent] = field(default_factory=list)
    review: ReviewState = ReviewState.NOT_NEEDED
    exhausted: bool = False


def _canonical(events: Iterable[Event]) -> tuple[list[Event], list[IgnoredEvent]]:
    copies: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        copies[event.id].append(event)
    kept: list[Event] = []
    ignored: list[IgnoredEvent] = []
    for event_id, same_id in copies.items():
        first = same_id[0]
        # Most ids come once: nothing to compare (pydantic's == walks every field).
        if all(c is first or c == first for c in same_id[1:]):
            kept.append(first)
        else:
            ignored.append(IgnoredEvent(event_id=event_id, reason="conflicting copies of one id"))
    kept.sort(key=_when)
    return kept, ignored


def _when(event: Event) -> tuple[datetime, str]:
    return event.occurred_at, event.id


def _evaluate(step: Step, events: Sequence[Event]) -> _Result:
    """Apply the step type's rule to this step's de-duplicated events, sorted by _when."""
    if isinstance(step, ReadingStep):
        return _reading(step, events)
    if isinstance(step, AudioStep | VideoStep):
        return _playback(step, events)
    if isinstance(step, QuizStep):
        return _quiz(step, events)
    if isinstance(step, ReflectionStep | LetterStep):
        return _writing(step, events)
    if isinstance(step, PledgeStep):
        return _pledge(step, events)
    assert isinstance(step, CheckpointStep)
    return _Result(any(e.type == "step.completed" for e in events))


def _malformed(event: Event, what: str) -> IgnoredEvent:
    return IgnoredEvent(event_id=event.id, reason=f"malformed {event.type}: {what}")


def _whole(value: object) -> int | None:
    """The value if it is a whole number (JSON true/false are not numbers here)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _reading(step: ReadingStep, events: Sequence[Event]) -> _Result:
    total_ms, views, ignored = 0, 0, []
    for e in (e for e in events if e.type == "step.viewed"):
        dwell = _whole(e.data.get("dwell_ms"))
        if dwell is not None and dwell >= 0:
            total_ms += dwell
            views += 1
        else:
            ignored.append(_malformed(e, "dwell_ms must be a whole number >= 0"))
    return _Result(views > 0 and total_ms >= step.min_dwell_seconds * 1000, ignored)


def _decimal(value: float) -> Decimal:
    # Through repr, so 0.9 compares as the 0.9 the author wrote, not its binary neighbour.
    return Decimal(repr(value))


def _playback(step: AudioStep | VideoStep, events: Sequence[Event]) -> _Result:
    # Each media.played event reports the distinct share of the media one playback covered;
    # the best one counts, never a sum, so replaying the first minute twice is not two minutes.
    need = _decimal(step.min_play_fraction)
    duration_ms = _decimal(step.duration_seconds) * 1000
    best, ignored = Decimal(0), []
    for e in (e for e in events if e.type == "media.played"):
        played, fraction = e.data.get("played_ms"), e.data.get("fraction")
        if isinstance(played, int | float) and not isinstance(played, bool) and played >= 0:
            best = max(best, _decimal(played) / duration_ms)
        elif isinstance(fraction, int | float) and not isinstance(fraction, bool):
            if 0 <= fraction <= 1:
                best = max(best, _decimal(fraction))
            else:
                ignored.append(_malformed(e, "fraction must be between 0 and 1"))
        else:
            ignored.append(_malformed(e, "needs played_ms or fraction"))
    return _Result(best >= need, ignored)


def _quiz(step: QuizStep, events: Sequence[Event]) -> _Result:
    first_of_attempt: dict[int, Event] = {}
    ignored: list[IgnoredEvent] = []
    passed = False
    for e in (e for e in events if e.type == "quiz.answered"):
        attempt, raw = _whole(e.data.get("attempt")), e.data.get("answers")
        if attempt is None or attempt < 1:
            ignored.append(_malformed(e, "attempt must be a whole number >= 1"))
            continue
        answers = _answers(raw)
        if answers is None:
            ignored.append(_malformed(e, "answers must map question ids to option numbers"))
            continue
        if step.max_attempts is not None and attempt > step.max_attempts:
            reason = f"attempt {attempt} is beyond the {step.max_attempts} allowed"
            ignored.append(IgnoredEvent(event_id=e.id, reason=reason))
            continue
        if attempt in first_of_attempt:
            # Events arrive sorted by _when, so the earliest claim on a number wins.
            reason = f"attempt {attempt} was already recorded by {first_of_attempt[attempt].id}"
            ignored.append(IgnoredEvent(event_id=e.id, reason=reason))
            continue
        first_of_attempt[attempt] = e
        passed = passed or _passes(step, answers)
    exhausted = (
        not passed and step.max_attempts is not None and len(first_of_attempt) >= step.max_attempts
    )
    return _Result(passed, ignored, exhausted=exhausted)


def quiz_score(step: QuizStep, answers: dict[str, int]) -> int:
    """How many questions the answers get right (unknown ids and bad indexes score nothing)."""
    right = 0
    for question in step.questions:
        index = answers.get(question.id)
        if index is not None and 0 <= index < len(question.options):
            right += question.options[index].correct
    return right


def _answers(raw: object) -> dict[str, int] | None:
    """Answers as {question id: option index}, or None if any part is not that shape."""
    if not isinstance(raw, dict):
        return None
    answers = {str(k): v for k, v in raw.items() if isinstance(v, int) and not isinstance(v, bool)}
    return answers if len(answers) == len(raw) else None


def _passes(step: QuizStep, answers: dict[str, int]) -> bool:
    # Whole-number cross-multiplication: exactly at the pass mark passes, with no rounding.
    return quiz_score(step, answers) * 100 >= step.pass_mark * len(step.questions)


def _writing(step: ReflectionStep | LetterStep, events: Sequence[Event]) -> _Result:
    kind = "letter.submitted" if isinstance(step, LetterStep) else "reflection.submitted"
    enough: list[Event] = []
    ignored: list[IgnoredEvent] = []
    for e in (e for e in events if e.type == kind):
        text = e.data.get("text")
        if not isinstance(text, str):
            ignored.append(_malformed(e, "text must be a string"))
        elif count_words(text) >= step.min_words:
            enough.append(e)
    if not step.needs_review:
        return _Result(bool(enough), ignored)
    if not enough:
        return _Result(False, ignored, ReviewState.NOT_SUBMITTED)
    # The officer judges the latest long-enough submission; a newer one supersedes a verdict.
    current = enough[-1].id
    known = {e.id for e in enough}
    verdicts: list[Event] = []
    for e in (e for e in events if e.type in ("review.accepted", "review.returned")):
        target = e.data.get("submission_id")
        if target == current:
            verdicts.append(e)
        elif target not in known:
            ignored.append(IgnoredEvent(event_id=e.id, reason="review of an unknown submission"))
    if not verdicts:
        return _Result(True, ignored, ReviewState.AWAITING)
    latest = verdicts[-1].type
    state = ReviewState.ACCEPTED if latest == "review.accepted" else ReviewState.RETURNED
    return _Result(True, ignored, state)


def _pledge(step: PledgeStep, events: Sequence[Event]) -> _Result:
    best, ignored = 0, []
    for e in (e for e in events if e.type == "pledge.saved"):
        items = e.data.get("items")
        texts = [i for i in items if isinstance(i, str)] if isinstance(items, list) else None
        if texts is None or not isinstance(items, list) or len(texts) != len(items):
            ignored.append(_malformed(e, "items must be a list of strings"))
            continue
        # Distinct after folding case and spacing, so one action typed three times is one.
        distinct = {" ".join(i.split()).casefold() for i in texts} - {""}
        best = max(best, len(distinct))
    return _Result(best >= step.min_items, ignored)


def _statuses(programme: Programme, satisfied: dict[str, bool]) -> dict[str, StepStatus]:
    statuses: dict[str, StepStatus] = {}
    earlier_modules_done = True
    for module in programme.modules:
        open_ = earlier_modules_done
        for step in module.steps:
            if not open_:
                statuses[step.id] = StepStatus.LOCKED
            elif satisfied[step.id]:
                statuses[step.id] = StepStatus.COMPLETE
            else:
                statuses[step.id] = StepStatus.AVAILABLE
            if step.required and statuses[step.id] is not StepStatus.COMPLETE:
                open_ = False
        module_done = all(statuses[s.id] is StepStatus.COMPLETE for s in module.steps if s.required)
        if module.required and not module_done:
            earlier_modules_done = False
    return statuses


def _completed_at(programme: Programme, by_step: dict[str, list[Event]]) -> datetime:
    """The earliest instant by which the programme was complete.

    The programme is complete by T exactly when every required step of every required module
    meets its own rule with the events at or before T: such a step is only ever held back by
    earlier required steps of its module and earlier required modules, which that same
    condition covers, and nothing else blocks completion. So the answer is the latest of
    those steps' own earliest instants, each found by bisection over that step's events
    alone (every rule is monotone in time-prefixes), rather than re-evaluating the whole
    programme at every candidate instant."""
    needed = [s for m in programme.modules if m.required for s in m.steps if s.required]
    instants = [_satisfied_at(step, by_step.get(step.id, [])) for step in needed]
    found = [t for t in instants if t is not None]
    if found:
        return max(found)
    # No step needed an event: complete from the first event on.
    return min(e.occurred_at for events in by_step.values() for e in events)


def _satisfied_at(step: Step, events: Sequence[Event]) -> datetime | None:
    """The earliest instant at which `step`'s rule holds on its events (sorted by _when),
    or None if it holds with none; the caller knows it holds on all of them."""
    times = sorted({e.occurred_at for e in events})
    if not times:
        return None
    low, high = 0, len(times) - 1  # all of them satisfy the rule, so times[high] qualifies
    while low < high:
        middle = (low + high) // 2
        if _evaluate(step, [e for e in events if e.occurred_at <= times[middle]]).complete:
            high = middle
        else:
            low = middle + 1
    return times[low]


def _percent(done: int, total: int) -> int:
    # Floor, so 99.6 % never shows as 100 % before the work is really done.
    return 100 if total == 0 else done * 100 // total


def _next_step(modules: Sequence[ModuleProgress]) -> str | None:
    # Resume at required work first; an optional step the participant skipped is not nagged.
    available = [
        (m.required and s.required, s.step_id)
        for m in modules
        for s in m.steps
        if s.status is StepStatus.AVAILABLE
    ]
    first = next((s for needed, s in available if needed), None)
    return first or next((s for _, s in available), None)


def _with_review(modules: Sequence[ModuleProgress], state: ReviewState) -> tuple[str, ...]:
    return tuple(s.step_id for m in modules for s in m.steps if s.review is state)
