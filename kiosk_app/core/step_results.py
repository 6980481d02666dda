"""What the player answers a participant's action with: quiz marking, text and pledge results.

Plain values for the UI, made from the enrolled programme's rules and the version shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from content_packs import model
from content_packs.progress import quiz_score


@dataclass(frozen=True, slots=True)
class QuestionFeedback:
    question_id: str
    chosen: int
    correct: bool
    feedback: str


@dataclass(frozen=True, slots=True)
class QuizFeedback:
    questions: tuple[QuestionFeedback, ...]
    score: int
    total: int
    passed: bool
    attempt: int
    attempts_left: int | None  # None: unlimited


@dataclass(frozen=True, slots=True)
class TextResult:
    accepted: bool
    words: int
    words_needed: int  # more words still needed; 0 when accepted
    message: str


@dataclass(frozen=True, slots=True)
class PledgeResult:
    accepted: bool
    items_needed: int
    message: str


def quiz_feedback(
    step: model.QuizStep,
    shown: model.QuizStep,
    answers: Mapping[str, int],
    *,
    attempt: int,
    passed: bool,
) -> QuizFeedback:
    """One marked attempt: right or wrong by the enrolled `step`, each option's feedback as
    `shown` (the same quiz in the participant's language)."""
    chosen = [
        QuestionFeedback(
            question_id=q.id,
            chosen=answers[q.id],
            correct=q.options[answers[q.id]].correct,
            feedback=words.options[answers[q.id]].feedback,  # as shown, in its language
        )
        for q, words in zip(step.questions, shown.questions, strict=True)
    ]
    return QuizFeedback(
        questions=tuple(chosen),
        score=quiz_score(step, dict(answers)),
        total=len(step.questions),
        passed=passed,
        attempt=attempt,
        attempts_left=None if step.max_attempts is None else step.max_attempts - attempt,
    )
