"""Completion rules: every step type's edges, unlocking, reviews, and order independence."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import JsonValue

from content_packs.model import Event, Programme
from content_packs.progress import (
    ReviewState,
    StepStatus,
    count_words,
    progress,
    step_complete,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
_ids = count(1)


def ev(
    kind: str,
    step: str | None,
    data: dict[str, JsonValue] | None = None,
    *,
    at: int | None = None,
    id: str | None = None,
) -> Event:
    """An event `at` seconds after T0 (default: a fresh second each call)."""
    number = next(_ids)
    return Event(
        id=id or str(uuid.UUID(int=number)),
        type=kind,
        step_id=step,
        occurred_at=T0 + timedelta(seconds=number if at is None else at),
        data=data or {},
    )


def question(qid: str) -> dict[str, Any]:
    return {
        "id": qid,
        "prompt": "?",
        "options": [{"text": "right", "correct": True}, {"text": "wrong"}],
    }


PROGRAMME = Programme.model_validate(
    {
        "id": "demo",
        "version": 3,
        "title": "Demo",
        "language": "en",
        "estimated_minutes": 30,
        "modules": [
            {
                "id": "m1",
                "title": "One",
                "steps": [
                    {"type": "reading", "id": "r1", "title": "R", "min_dwell_seconds": 10},
                    {"type": "reading", "id": "opt", "title": "O", "required": False},
                    {
                        "type": "audio",
                        "id": "a1",
                        "title": "A",
                        "source": "a.ogg",
                        "duration_seconds": 10,
                        "min_play_fraction": 0.9,
                    },
                ],
            },
            {
                "id": "m2",
                "title": "Two",
                "steps": [
                    {
                        "type": "quiz",
                        "id": "q1",
                        "title": "Q",
                        "pass_mark": 75,
                        "max_attempts": 2,
                        "questions": [question(f"x{i}") for i in range(4)],
                    },
                    {
                        "type": "reflection",
                        "id": "w1",
                        "title": "W",
                        "prompt": "Why?",
                        "min_words": 5,
                        "needs_review": True,
                    },
                ],
            },
            {
                "id": "m3",
                "title": "Optional",
                "required": False,
                "steps": [
                    {
                        "type": "pledge",
                        "id": "p1",
                        "title": "P",
                        "items": ["a", "b", "c"],
                        "min_items": 2,
                    },
                ],
            },
            {
                "id": "m4",
                "title": "Four",
                "steps": [
                    {"type": "letter", "id": "l1", "title": "L", "prompt": "Dear", "min_words": 3},
                    {
                        "type": "video",
                        "id": "v1",
                        "title": "V",
                        "source": "v.mp4",
                        "duration_seconds": 12.5,
                    },
                    {"type": "checkpoint", "id": "c1", "title": "C", "summary": "Done."},
                ],
            },
        ],
    }
)


def answers(right: int) -> dict[str, JsonValue]:
    """Quiz answers with the first `right` questions right and the rest wrong."""
    return {f"x{i}": 0 if i < right else 1 for i in range(4)}


def done(step_id: str, *, at: int | None = None) -> list[Event]:
    """Events that meet the step's own rule."""
    recipes: dict[str, list[tuple[str, dict[str, JsonValue]]]] = {
        "r1": [("step.viewed", {"dwell_ms": 10_000})],
        "opt": [("step.viewed", {"dwell_ms": 0})],
        "a1": [("media.played", {"played_ms": 9_000})],
        "q1": [("quiz.answered", {"attempt": 1, "answers": answers(4)})],
        "w1": [("reflection.submitted", {"text": "one two three four five"})],
        "p1": [("pledge.saved", {"items": ["walk", "talk"]})],
        "l1": [("letter.submitted", {"text": "I am sorry"})],
        "v1": [("media.played", {"fraction": 0.9})],
        "c1": [("step.completed", {})],
    }
    return [ev(kind, step_id, data, at=at) for kind, data in recipes[step_id]]


REQUIRED = ["r1", "a1", "q1", "w1", "l1", "v1", "c1"]


def complete_run() -> list[Event]:
    return [e for step in REQUIRED for e in done(step)]


def status(events: list[Event], step_id: str) -> StepStatus:
    return progress(PROGRAMME, events).step(step_id).status


# --- each rule's edges -------------------------------------------------------------------

WORDS = {
    "": 0,
    "   \n\t": 0,
    "one": 1,
    "hello, world!": 2,
    "don't stop": 2,
    "it\u2019s fine": 2,
    "well-being": 2,
    "42 cats": 2,
    "___ --- ...": 0,
    "snake_case": 2,
    "Zażółć gęślą jaźń": 3,
    "cafe\u0301 au lait": 3,
    "przepraszam.Bardzo": 2,
}


@pytest.mark.parametrize(("text", "expected"), WORDS.items(), ids=repr)
def test_words_are_runs_of_letters_or_digits(text: str, expected: int) -> None:
    assert count_words(text) == expected


RULES: dict[str, tuple[str, list[tuple[str, dict[str, JsonValue]]], bool]] = {
    "dwell exactly the minimum": ("r1", [("step.viewed", {"dwell_ms": 10_000})], True),
    "dwell one ms short": ("r1", [("step.viewed", {"dwell_ms": 9_999})], False),
    "dwell adds up over visits": (
        "r1",
        [("step.viewed", {"dwell_ms": 4_000}), ("step.viewed", {"dwell_ms": 6_000})],
        True,
    ),
    "dwell that is not a number": ("r1", [("step.viewed", {"dwell_ms": "10000"})], False),
    "dwell given as true": ("r1", [("step.viewed", {"dwell_ms": True})], False),
    "zero minimum still needs a view": ("opt", [("media.played", {"fraction": 1})], False),
    "zero minimum with a view": ("opt", [("step.viewed", {"dwell_ms": 0})], True),
    "played exactly 90 %": ("a1", [("media.played", {"played_ms": 9_000})], True),
    "played 1 ms short": ("a1", [("media.played", {"played_ms": 8_999})], False),
    "fraction exactly at the minimum": ("a1", [("media.played", {"fraction": 0.9})], True),
    "fraction just below": ("a1", [("media.played", {"fraction": 0.8999})], False),
    "two half plays are not one whole": (
        "a1",
        [("media.played", {"played_ms": 5_000}), ("media.played", {"played_ms": 5_000})],
        False,
    ),
    "fraction out of range": ("a1", [("media.played", {"fraction": 9})], False),
    "fractional duration, exactly 90 %": ("v1", [("media.played", {"played_ms": 11_250})], True),
    "fractional duration, just short": ("v1", [("media.played", {"played_ms": 11_249})], False),
    "quiz exactly at the pass mark": (
        "q1",
        [("quiz.answered", {"attempt": 1, "answers": answers(3)})],
        True,
    ),
    "quiz one below the pass mark": (
        "q1",
        [("quiz.answered", {"attempt": 1, "answers": answers(2)})],
        False,
    ),
    "quiz passed on the last allowed attempt": (
        "q1",
        [
            ("quiz.answered", {"attempt": 1, "answers": answers(0)}),
            ("quiz.answered", {"attempt": 2, "answers": answers(4)}),
        ],
        True,
    ),
    "quiz passed beyond the allowed attempts": (
        "q1",
        [("quiz.answered", {"attempt": 3, "answers": answers(4)})],
        False,
    ),
    "a client-sent score is not trusted": (
        "q1",
        [("quiz.answered", {"attempt": 1, "answers": answers(0), "score": 100})],
        False,
    ),
    "unanswered questions are wrong": (
        "q1",
        [("quiz.answered", {"attempt": 1, "answers": {"x0": 0, "x1": 0}})],
        False,
    ),
    "an option number out of range is wrong": (
        "q1",
        [("quiz.answered", {"attempt": 1, "answers": {**answers(2), "x2": 7}})],
        False,
    ),
    "answers that are not numbers": (
        "q1",
        [("quiz.answered", {"attempt": 1, "answers": {"x0": "0"}})],
        False,
    ),
    "reflection with exactly min_words": (
        "w1",
        [("reflection.submitted", {"text": "one two three four five"})],
        True,
    ),
    "reflection one word short": (
        "w1",
        [("reflection.submitted", {"text": "one two three four"})],
        False,
    ),
    "a letter does not complete a reflection": (
        "w1",
        [("letter.submitted", {"text": "one two three four five"})],
        False,
    ),
    "letter with exactly min_words": ("l1", [("letter.submitted", {"text": "I'm so sorry"})], True),
    "letter one word short": ("l1", [("letter.submitted", {"text": "so sorry"})], False),
    "pledge with min_items": ("p1", [("pledge.saved", {"items": ["walk", "talk"]})], True),
    "blank and repeated items count once": (
        "p1",
        [("pledge.saved", {"items": ["walk", " Walk ", "  ", ""]})],
        False,
    ),
    "pledge items that are not text": ("p1", [("pledge.saved", {"items": [1, 2]})], False),
    "checkpoint confirmed": ("c1", [("step.completed", {})], True),
    "checkpoint only viewed": ("c1", [("step.viewed", {"dwell_ms": 99_000})], False),
    "step.completed does not complete a reading": ("r1", [("step.completed", {})], False),
}


@pytest.mark.parametrize(("step_id", "recipe", "expected"), RULES.values(), ids=RULES.keys())
def test_step_rule(
    step_id: str, recipe: list[tuple[str, dict[str, JsonValue]]], expected: bool
) -> None:
    events = [ev(kind, step_id, data) for kind, data in recipe]

    assert step_complete(PROGRAMME.step(step_id), events) is expected


def test_step_complete_ignores_other_steps_events() -> None:
    assert not step_complete(PROGRAMME.step("r1"), done("a1") + [ev("step.viewed", "x")])


def test_a_duplicated_view_counts_once() -> None:
    view = ev("step.viewed", "r1", {"dwell_ms": 5_000})

    assert not step_complete(PROGRAMME.step("r1"), [view, view])


def test_quiz_attempt_numbers_make_order_irrelevant() -> None:
    fail = ev("quiz.answered", "q1", {"attempt": 1, "answers": answers(0)}, at=50)
    passed = ev("quiz.answered", "q1", {"attempt": 2, "answers": answers(4)}, at=10)

    assert step_complete(PROGRAMME.step("q1"), [fail, passed])
    assert step_complete(PROGRAMME.step("q1"), [passed, fail])


def test_a_second_claim_on_one_attempt_number_is_ignored() -> None:
    first = ev("quiz.answered", "q1", {"attempt": 1, "answers": answers(0)}, at=1)
    again = ev("quiz.answered", "q1", {"attempt": 1, "answers": answers(4)}, at=2)
    events = done("r1") + done("a1") + [again, first]

    result = progress(PROGRAMME, events)

    assert result.step("q1").status is StepStatus.AVAILABLE
    assert [i.event_id for i in result.ignored_events] == [again.id]


def test_using_every_attempt_without_passing_is_reported() -> None:
    events = (
        done("r1")
        + done("a1")
        + [ev("quiz.answered", "q1", {"attempt": n, "answers": answers(1)}) for n in (1, 2)]
    )
    events.append(ev("quiz.answered", "q1", {"attempt": 3, "answers": answers(4)}))

    result = progress(PROGRAMME, events)

    assert result.step("q1").attempts_exhausted
    assert result.step("q1").status is StepStatus.AVAILABLE
    assert "beyond the 2 allowed" in result.ignored_events[0].reason


# --- unlocking and the programme --------------------------------------------------------


def test_nothing_done_opens_only_the_first_step() -> None:
    result = progress(PROGRAMME, [])

    assert [s.status for s in result.modules[0].steps] == [
        StepStatus.AVAILABLE,
        StepStatus.LOCKED,
        StepStatus.LOCKED,
    ]
    assert all(s.status is StepStatus.LOCKED for m in result.modules[1:] for s in m.steps)
    assert (result.next_step_id, result.percent, result.complete) == ("r1", 0, False)
    assert result.completed_at is None


def test_an_optional_step_does_not_block_the_next() -> None:
    result = progress(PROGRAMME, done("r1"))

    assert result.step("opt").status is StepStatus.AVAILABLE
    assert result.step("a1").status is StepStatus.AVAILABLE
    assert result.next_step_id == "a1"  # required work first; the optional step can wait


def test_events_for_a_locked_step_are_held_until_it_unlocks() -> None:
    early = done("a1", at=1)

    assert status(early, "a1") is StepStatus.LOCKED
    assert status(early + done("r1", at=2), "a1") is StepStatus.COMPLETE


def test_a_later_module_waits_for_the_earlier_required_module() -> None:
    result = progress(PROGRAMME, done("r1") + done("q1"))

    assert result.step("q1").status is StepStatus.LOCKED
    assert not result.modules[0].complete
    assert result.modules[0].percent == 50


def test_an_optional_module_does_not_block_and_is_not_needed() -> None:
    events = [e for s in ["r1", "a1", "q1", "w1"] for e in done(s)]

    result = progress(PROGRAMME, events)

    assert result.step("p1").status is StepStatus.AVAILABLE
    assert result.step("l1").status is StepStatus.AVAILABLE
    assert not result.modules[2].complete
    assert result.next_step_id == "l1"


def test_a_complete_run_completes_the_programme() -> None:
    events = complete_run()

    result = progress(PROGRAMME, events)

    assert result.complete
    assert result.percent == 100
    assert result.next_step_id == "opt"  # only optional work is left
    assert result.completed_at == max(e.occurred_at for e in events)
    assert (result.programme_id, result.programme_version) == ("demo", 3)


def test_completed_at_is_when_the_last_needed_event_happened() -> None:
    run = complete_run()
    events = run + [ev("step.viewed", "r1", {"dwell_ms": 1}, at=10_000)]
    needed_last = max(e.occurred_at for e in run)

    assert progress(PROGRAMME, events).completed_at == needed_last


def test_completed_at_with_the_last_events_tied() -> None:
    run = [e for s in REQUIRED[:-1] for e in done(s, at=5)] + done("c1", at=5)

    assert progress(PROGRAMME, run).completed_at == T0 + timedelta(seconds=5)


def test_held_events_complete_when_the_prerequisite_arrives() -> None:
    # c1 was confirmed long before the video was watched: completion is the video's time.
    events = [e for s in REQUIRED if s not in ("v1", "c1") for e in done(s, at=10)]
    events += done("c1", at=20) + done("v1", at=30)

    assert progress(PROGRAMME, events).completed_at == T0 + timedelta(seconds=30)


# --- reviews ---------------------------------------------------------------------------

UNTIL_W1 = ["r1", "a1", "q1"]


def review(kind: str, submission: Event, at: int) -> Event:
    return ev(kind, "w1", {"submission_id": submission.id}, at=at)


def test_review_states_follow_the_latest_submission() -> None:
    base = [e for s in UNTIL_W1 for e in done(s, at=1)]
    first = ev("reflection.submitted", "w1", {"text": "one two three four five"}, at=2)
    returned = review("review.returned", first, at=3)
    second = ev("reflection.submitted", "w1", {"text": "one two three four five six"}, at=4)
    accepted = review("review.accepted", second, at=5)

    cases = [
        (base, ReviewState.NOT_SUBMITTED, StepStatus.AVAILABLE),
        (base + [first], ReviewState.AWAITING, StepStatus.COMPLETE),
        (base + [first, returned], ReviewState.RETURNED, StepStatus.COMPLETE),
        (base + [first, returned, second], ReviewState.AWAITING, StepStatus.COMPLETE),
        (base + [first, returned, second, accepted], ReviewState.ACCEPTED, StepStatus.COMPLETE),
    ]
    for events, state, step_status in cases:
        result = progress(PROGRAMME, events)
        assert (result.step("w1").review, result.step("w1").status) == (state, step_status)
        assert result.awaiting_review == (("w1",) if state is ReviewState.AWAITING else ())
        assert result.returned_for_changes == (("w1",) if state is ReviewState.RETURNED else ())


def test_letters_always_wait_for_review() -> None:
    result = progress(PROGRAMME, complete_run())

    assert result.step("l1").review is ReviewState.AWAITING
    assert result.awaiting_review == ("w1", "l1")
    assert result.step("r1").review is ReviewState.NOT_NEEDED


def test_a_review_of_an_unknown_submission_is_ignored() -> None:
    stray = ev("review.accepted", "w1", {"submission_id": str(uuid.uuid4())})

    result = progress(PROGRAMME, complete_run() + [stray])

    assert result.step("w1").review is ReviewState.AWAITING
    assert [i.event_id for i in result.ignored_events] == [stray.id]


# --- what is ignored ---------------------------------------------------------------------


def test_unknown_steps_and_conflicting_copies_are_ignored_and_reported() -> None:
    ghost = ev("step.viewed", "ghost", {"dwell_ms": 1})
    view = ev("step.viewed", "r1", {"dwell_ms": 10_000})
    forged = view.model_copy(update={"data": {"dwell_ms": 99_000}})
    session = ev("session.started", None)

    result = progress(PROGRAMME, [ghost, view, forged, session])

    assert {(i.event_id, i.reason) for i in result.ignored_events} == {
        (ghost.id, "unknown step id"),
        (view.id, "conflicting copies of one id"),
    }
    assert result.step("r1").status is StepStatus.AVAILABLE


# --- order and duplication never matter ---------------------------------------------------

ID_POOL = [str(uuid.UUID(int=10_000 + n)) for n in range(40)]
TEXTS = ["", "one two", "one two three four five", "I am very sorry"]


@st.composite
def noise_event(draw: st.DrawFn) -> Event:
    step = draw(st.sampled_from([s.id for s in PROGRAMME.all_steps()] + ["ghost"]))
    items: list[JsonValue] = list(draw(st.lists(st.sampled_from(["a", "b", " "]))))
    shapes: list[tuple[str, dict[str, JsonValue]]] = [
        ("step.viewed", {"dwell_ms": draw(st.integers(0, 12_000))}),
        ("media.played", {"played_ms": draw(st.integers(0, 13_000))}),
        ("media.played", {"fraction": draw(st.floats(0, 1))}),
        (
            "quiz.answered",
            {
                "attempt": draw(st.integers(1, 3)),
                "answers": answers(draw(st.integers(0, 4))),
            },
        ),
        ("reflection.submitted", {"text": draw(st.sampled_from(TEXTS))}),
        ("letter.submitted", {"text": draw(st.sampled_from(TEXTS))}),
        ("pledge.saved", {"items": items}),
        ("step.completed", {}),
        ("review.accepted", {"submission_id": draw(st.sampled_from(ID_POOL))}),
        ("review.returned", {"submission_id": draw(st.sampled_from(ID_POOL))}),
    ]
    kind, data = draw(st.sampled_from(shapes))
    return Event(
        id=draw(st.sampled_from(ID_POOL)),  # a small pool, so conflicting copies happen
        type=kind,
        step_id=step,
        occurred_at=T0 + timedelta(seconds=draw(st.integers(0, 30))),
        data=data,
    )


@st.composite
def event_sets(draw: st.DrawFn) -> list[Event]:
    """A random part of a complete run, at random times, mixed with random noise."""
    run = [
        e.model_copy(update={"occurred_at": T0 + timedelta(seconds=draw(st.integers(0, 30)))})
        for e in complete_run()
        if draw(st.integers(0, 9)) < 9
    ]
    return run + draw(st.lists(noise_event(), max_size=12))


@settings(max_examples=300, deadline=None)
@given(events=event_sets(), data=st.data())
def test_progress_ignores_order_and_duplicates(events: list[Event], data: st.DataObject) -> None:
    extra = data.draw(st.lists(st.sampled_from(events), max_size=5)) if events else []
    shuffled = data.draw(st.permutations(events + extra))

    assert progress(PROGRAMME, shuffled) == progress(PROGRAMME, events)


@settings(max_examples=200, deadline=None)
@given(events=event_sets())
def test_completed_at_is_the_earliest_complete_prefix(events: list[Event]) -> None:
    result = progress(PROGRAMME, events)
    conflicting = {i.event_id for i in result.ignored_events if "conflicting" in i.reason}
    clean = [e for e in events if e.id not in conflicting]

    def complete_by(t: datetime) -> bool:
        return progress(PROGRAMME, [e for e in clean if e.occurred_at <= t]).complete

    times = sorted({e.occurred_at for e in clean})
    expected = next((t for t in times if complete_by(t)), None)
    assert result.completed_at == expected
    if expected is not None:
        assert all(complete_by(t) for t in times if t >= expected)  # never un-completes
