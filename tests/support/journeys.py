"""The events a diligent participant produces to finish each step of any programme."""

from __future__ import annotations

from typing import Any

from content_packs import model

Planned = tuple[str, dict[str, Any]]


def finishing_events(step: model.Step) -> list[Planned]:
    """(type, data) pairs that satisfy `step`'s own completion rule, and no more."""
    if isinstance(step, model.ReadingStep):
        return [("step.viewed", {"dwell_ms": step.min_dwell_seconds * 1000 + 1000})]
    if isinstance(step, model.AudioStep | model.VideoStep):
        return [("media.played", {"fraction": 1.0})]
    if isinstance(step, model.QuizStep):
        right = {
            q.id: next(i for i, option in enumerate(q.options) if option.correct)
            for q in step.questions
        }
        return [("quiz.answered", {"attempt": 1, "answers": right})]
    if isinstance(step, model.ReflectionStep | model.LetterStep):
        kind = "letter.submitted" if isinstance(step, model.LetterStep) else "reflection.submitted"
        words = " ".join(f"word{i}" for i in range(step.min_words + 5))
        return [(kind, {"text": f"In my own words {words}"})]
    if isinstance(step, model.PledgeStep):
        return [("pledge.saved", {"items": [f"Action {i}" for i in range(step.min_items)]})]
    if isinstance(step, model.CheckpointStep):
        return [("step.completed", {})]
    raise AssertionError(f"no journey for {type(step).__name__}")


def whole_programme(programme: model.Programme) -> list[tuple[str, Planned]]:
    """(step id, planned event) for every required step of every required module, in order."""
    plan: list[tuple[str, Planned]] = []
    for module in programme.modules:
        if not module.required:
            continue
        for step in module.steps:
            if step.required:
                plan.extend((step.id, planned) for planned in finishing_events(step))
    return plan
