"""What an enrolment's events show, read with its programme: quiz scores, time per module,
written work, and a one-line description of each event for the timeline."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from content_packs import model
from content_packs.progress import ProgrammeProgress, ReviewState, count_words, quiz_score

REVIEW_LABELS = {
    ReviewState.NOT_NEEDED: "No review needed",
    ReviewState.NOT_SUBMITTED: "Not submitted",
    ReviewState.AWAITING: "Awaiting officer review",
    ReviewState.ACCEPTED: "Accepted",
    ReviewState.RETURNED: "Returned for changes",
}


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored on the server, with both clocks and the device's name."""

    id: str
    type: str
    step_id: str | None
    enrolment_id: str | None
    data: dict[str, Any]
    occurred_at: datetime
    received_at: datetime
    device_name: str


@dataclass(frozen=True)
class QuizAttempt:
    step_title: str
    attempt: int
    score: int
    out_of: int
    pass_mark: int
    passed: bool
    at: datetime
    counted: bool


@dataclass(frozen=True)
class ModuleTime:
    title: str
    seconds: int
    percent: int
    complete: bool


@dataclass(frozen=True)
class Writing:
    kind: str
    step_title: str
    prompt: str
    text: str
    words: int
    at: datetime
    review: str


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _answers(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if _whole(v) is not None}


def quiz_attempts(
    programme: model.Programme, events: Sequence[StoredEvent], ignored: set[str]
) -> list[QuizAttempt]:
    """Every quiz answer, scored here from the answers (as the rules do), in time order."""
    attempts = []
    for event in sorted(events, key=lambda e: (e.occurred_at, e.id)):
        if event.type != "quiz.answered" or event.step_id is None:
            continue
        step = _step(programme, event.step_id)
        if not isinstance(step, model.QuizStep):
            continue
        score = quiz_score(step, _answers(event.data.get("answers")))
        out_of = len(step.questions)
        attempts.append(
            QuizAttempt(
                step_title=step.title,
                attempt=_whole(event.data.get("attempt")) or 0,
                score=score,
                out_of=out_of,
                pass_mark=step.pass_mark,
                passed=score * 100 >= step.pass_mark * out_of,
                at=event.occurred_at,
                counted=event.id not in ignored,
            )
        )
    return attempts


def _seconds_spent(step: model.Step, event: StoredEvent) -> float:
    if event.type == "step.viewed":
        return (_whole(event.data.get("dwell_ms")) or 0) / 1000
    if event.type == "media.played" and isinstance(step, model.AudioStep | model.VideoStep):
        played = _whole(event.data.get("played_ms"))
        if played is not None:
            return played / 1000
        fraction = _number(event.data.get("fraction")) or 0.0
        return max(0.0, min(fraction, 1.0)) * step.duration_seconds
    return 0.0


def module_times(
    programme: model.Programme, events: Sequence[StoredEvent], result: ProgrammeProgress
) -> list[ModuleTime]:
    """Reading time and media played per module, with the module's progress."""
    seconds: dict[str, float] = defaultdict(float)
    for event in events:
        step = _step(programme, event.step_id)
        if step is not None:
            seconds[programme.module_of(step.id).id] += _seconds_spent(step, event)
    percent = {m.module_id: (m.percent, m.complete) for m in result.modules}
    return [
        ModuleTime(
            title=module.title,
            seconds=round(seconds[module.id]),
            percent=percent.get(module.id, (0, False))[0],
            complete=percent.get(module.id, (0, False))[1],
        )
        for module in programme.modules
    ]


def writings(
    programme: model.Programme, events: Sequence[StoredEvent], result: ProgrammeProgress
) -> list[Writing]:
    """Reflections, letters and pledges, every submission in time order."""
    review = {s.step_id: s.review for m in result.modules for s in m.steps}
    found = []
    for event in sorted(events, key=lambda e: (e.occurred_at, e.id)):
        step = _step(programme, event.step_id)
        if event.type in ("reflection.submitted", "letter.submitted") and isinstance(
            step, model.ReflectionStep | model.LetterStep
        ):
            text = event.data.get("text")
            body = text if isinstance(text, str) else ""
            kind = "Letter" if isinstance(step, model.LetterStep) else "Reflection"
            prompt, words = step.prompt, count_words(body)
        elif event.type == "pledge.saved" and isinstance(step, model.PledgeStep):
            items = event.data.get("items")
            lines = [str(i) for i in items] if isinstance(items, list) else []
            kind, prompt, body, words = "Action plan", step.title, "\n".join(lines), len(lines)
        else:
            continue
        assert step is not None
        state = review.get(step.id, ReviewState.NOT_NEEDED)
        found.append(
            Writing(kind, step.title, prompt, body, words, event.occurred_at, REVIEW_LABELS[state])
        )
    return found


def _step(programme: model.Programme | None, step_id: str | None) -> model.Step | None:
    if programme is None or step_id is None:
        return None
    try:
        return programme.step(step_id)
    except KeyError:
        return None


def describe(event: StoredEvent, programme: model.Programme | None) -> str:
    """One line saying what happened, without any answer text."""
    data = event.data
    step = _step(programme, event.step_id)
    if event.type == "step.viewed":
        return f"read for {(_whole(data.get('dwell_ms')) or 0) // 1000} s"
    if event.type == "media.played":
        if step is not None:
            return f"played {round(_seconds_spent(step, event))} s"
        return "played"
    if event.type == "quiz.answered" and isinstance(step, model.QuizStep):
        score = quiz_score(step, _answers(data.get("answers")))
        attempt = _whole(data.get("attempt")) or 0
        return f"attempt {attempt}: {score} of {len(step.questions)} right"
    if event.type in ("reflection.submitted", "letter.submitted"):
        text = data.get("text")
        return f"{count_words(text) if isinstance(text, str) else 0} words"
    if event.type == "pledge.saved":
        items = data.get("items")
        return f"{len(items) if isinstance(items, list) else 0} actions"
    if event.type == "enrolment.assigned":
        return f"{data.get('programme_id', '')}, due {data.get('due_date', '')}"
    if event.type == "login.failed":
        return "wrong PIN"
    return ""


def step_title(event: StoredEvent, programme: model.Programme | None) -> str:
    step = _step(programme, event.step_id)
    return step.title if step is not None else (event.step_id or "")
