"""The programme model: validation, lookups, JSON round trips and the outline."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from content_packs.model import Event, Module, Programme, QuizStep, ReadingStep, outline

QUIZ: dict[str, Any] = {
    "type": "quiz",
    "id": "quiz",
    "title": "Quiz",
    "pass_mark": 50,
    "max_attempts": 2,
    "questions": [
        {
            "id": "q1",
            "prompt": "Ready?",
            "options": [{"text": "Yes", "correct": True, "feedback": "Good."}, {"text": "No"}],
        }
    ],
}


def programme_data() -> dict[str, Any]:
    """A programme as plain JSON-shaped data, one step of every type."""
    steps: list[dict[str, Any]] = [
        {
            "type": "reading",
            "id": "read",
            "title": "Read",
            "min_dwell_seconds": 30,
            "narration": "media/read.ogg",
            "media": ["media/pic.svg"],
            "body": "# Hi",
        },
        {
            "type": "audio",
            "id": "hear",
            "title": "Hear",
            "source": "media/a.ogg",
            "duration_seconds": 8.1,
        },
        {
            "type": "video",
            "id": "watch",
            "title": "Watch",
            "source": "media/v.mp4",
            "duration_seconds": 12,
            "min_play_fraction": 0.8,
            "required": False,
        },
        QUIZ,
        {
            "type": "reflection",
            "id": "think",
            "title": "Think",
            "prompt": "Why?",
            "min_words": 20,
            "needs_review": True,
        },
        {"type": "letter", "id": "write", "title": "Write", "prompt": "Dear...", "min_words": 50},
        {"type": "pledge", "id": "plan", "title": "Plan", "items": ["One", "Two"], "min_items": 2},
        {"type": "checkpoint", "id": "done", "title": "Done", "summary": "I did it."},
    ]
    return copy.deepcopy(
        {
            "id": "demo",
            "version": 1,
            "title": "Demo",
            "language": "en-GB",
            "topics": ["alcohol"],
            "estimated_minutes": 20,
            "sources": ["NICE PH24"],
            "outcomes": ["Know units"],
            "modules": [
                {"id": "one", "title": "One", "steps": steps[:4]},
                {"id": "two", "title": "Two", "required": False, "steps": steps[4:6]},
                {"id": "three", "title": "Three", "steps": steps[6:]},
            ],
        }
    )


def test_a_programme_round_trips_through_json() -> None:
    programme = Programme.model_validate(programme_data())

    dumped = programme.model_dump(mode="json")

    assert Programme.model_validate_json(programme.model_dump_json()) == programme
    assert Programme.model_validate(dumped) == programme
    assert dumped["modules"][0]["steps"][1]["source"] == "media/a.ogg"


def test_models_are_frozen() -> None:
    programme = Programme.model_validate(programme_data())

    with pytest.raises(ValidationError):
        programme.title = "Changed"


def test_lookups_walk_the_programme_in_order() -> None:
    programme = Programme.model_validate(programme_data())

    assert [s.id for s in programme.all_steps()] == [
        "read",
        "hear",
        "watch",
        "quiz",
        "think",
        "write",
        "plan",
        "done",
    ]
    assert isinstance(programme.step("quiz"), QuizStep)
    assert programme.module_of("think").id == "two"
    assert programme.media_paths() == (
        "media/a.ogg",
        "media/pic.svg",
        "media/read.ogg",
        "media/v.mp4",
    )
    with pytest.raises(KeyError):
        programme.step("nope")


def test_minimum_time_counts_required_dwell_and_playback_only() -> None:
    programme = Programme.model_validate(programme_data())

    # 30 s reading + 90 % of 8.1 s audio; the optional video is not counted.
    assert programme.minimum_seconds() == pytest.approx(30 + 8.1 * 0.9)


def test_outline_lists_modules_steps_rules_and_time() -> None:
    text = outline(Programme.model_validate(programme_data()))

    assert "Demo (demo v1, en-GB)" in text
    assert "Estimated time: 20 min" in text
    assert "2. Two (two) [optional]" in text
    assert "score at least 50% of 1 question(s), at most 2 attempt(s)" in text
    assert "write at least 20 word(s), reviewed by an officer" in text


def with_change(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    data = programme_data()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


INVALID = {
    "quiz question with no correct option": (
        ("modules", 0, "steps", 3, "questions", 0, "options", 0, "correct"),
        False,
        "has no correct option",
    ),
    "duplicate step id": (("modules", 2, "steps", 0, "id"), "read", "duplicate step id(s): read"),
    "duplicate module id": (("modules", 1, "id"), "one", "duplicate module id(s): one"),
    "module with no steps": (("modules", 1, "steps"), [], "at least 1 item"),
    "no modules": (("modules",), [], "at least 1 item"),
    "bad id": (("id",), "Demo Programme", "should match pattern"),
    "version zero": (("version",), 0, "greater than or equal to 1"),
    "bad language": (("language",), "English", "should match pattern"),
    "pass mark over 100": (("modules", 0, "steps", 3, "pass_mark"), 101, "less than or equal"),
    "zero attempts": (("modules", 0, "steps", 3, "max_attempts"), 0, "greater than or equal"),
    "unknown step type": (("modules", 0, "steps", 0, "type"), "poem", "does not match any"),
    "unknown field": (("colour",), "red", "Extra inputs are not permitted"),
    "path traversal": (("modules", 0, "steps", 0, "media"), ["../x.svg"], "'..'"),
    "absolute path": (("modules", 0, "steps", 1, "source"), "/etc/passwd", "must be relative"),
    "unpackable file name": (("modules", 0, "steps", 1, "source"), "a b.ogg", "may use only"),
    "play fraction over 1": (("modules", 0, "steps", 1, "min_play_fraction"), 1.5, "less than"),
    "pledge needing more items than prompts": (
        ("modules", 2, "steps", 0, "min_items"),
        3,
        "exceeds the 2 prompts",
    ),
    "nothing required": (("modules", 0, "required"), False, "at least one required step"),
}


@pytest.mark.parametrize(("path", "value", "message"), INVALID.values(), ids=INVALID.keys())
def test_invalid_programmes_are_rejected(
    path: tuple[str | int, ...], value: Any, message: str
) -> None:
    data = with_change(path, value)
    if path == ("modules", 0, "required"):
        data["modules"][2]["required"] = False

    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Programme.model_validate(data)


def test_duplicate_question_ids_are_rejected() -> None:
    question = QUIZ["questions"][0]
    with pytest.raises(ValidationError, match="duplicate question id"):
        QuizStep.model_validate({**QUIZ, "questions": [question, question]})


def test_a_module_must_have_steps() -> None:
    with pytest.raises(ValidationError):
        Module(id="m", title="M", steps=())


def test_steps_build_from_python_with_defaults() -> None:
    step = ReadingStep(id="r", title="R")

    assert (step.type, step.required, step.min_dwell_seconds, step.media) == (
        "reading",
        True,
        0,
        (),
    )


def test_event_times_are_normalised_to_utc() -> None:
    plus_one = timezone(timedelta(hours=1))
    event = Event(
        id="A1B2C3D4-0000-4000-8000-000000000000",
        type="step.viewed",
        occurred_at=datetime(2025, 1, 1, 13, 0, tzinfo=plus_one),
    )

    assert event.occurred_at == datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert event.occurred_at.tzinfo is UTC
    assert event.id == "a1b2c3d4-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("field", "value"),
    [("occurred_at", datetime(2025, 1, 1)), ("id", "not-a-uuid"), ("type", "")],
)
def test_bad_events_are_rejected(field: str, value: object) -> None:
    good: dict[str, object] = {
        "id": "a1b2c3d4-0000-4000-8000-000000000000",
        "type": "step.viewed",
        "occurred_at": datetime(2025, 1, 1, tzinfo=UTC),
    }
    with pytest.raises(ValidationError):
        Event.model_validate({**good, field: value})


def test_events_round_trip_through_json() -> None:
    event = Event(
        id="a1b2c3d4-0000-4000-8000-000000000000",
        type="quiz.answered",
        step_id="quiz",
        occurred_at=datetime(2025, 1, 1, tzinfo=UTC),
        data={"attempt": 1, "answers": {"q1": 0}},
    )

    assert Event.model_validate_json(event.model_dump_json()) == event
