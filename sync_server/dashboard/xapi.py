"""xAPI statements with cmi5 verbs for an external learning record store, built from the
stored events and the server's own reading of them (the same rules as completion)."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from content_packs import model
from content_packs.progress import ProgrammeProgress, progress, quiz_score
from sync_server.db import SessionFactory
from sync_server.models import Enrolment, EnrolmentStatus, Event
from sync_server.services.effects import Programmes

VERBS = {
    "launched": "http://adlnet.gov/expapi/verbs/launched",
    "completed": "http://adlnet.gov/expapi/verbs/completed",
    "passed": "http://adlnet.gov/expapi/verbs/passed",
    "failed": "http://adlnet.gov/expapi/verbs/failed",
    "satisfied": "https://w3id.org/xapi/adl/verbs/satisfied",
}
CMI5 = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
MOVE_ON = "https://w3id.org/xapi/cmi5/context/categories/moveon"
SESSION_ID = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
LAUNCH_MODE = "https://w3id.org/xapi/cmi5/context/extensions/launchmode"
LAUNCH_URL = "https://w3id.org/xapi/cmi5/context/extensions/launchurl"
MOVE_ON_RULE = "https://w3id.org/xapi/cmi5/context/extensions/moveon"
COURSE_TYPE = "https://w3id.org/xapi/cmi5/activitytype/course"
ASSESSMENT_TYPE = "http://adlnet.gov/expapi/activities/assessment"
# Statement ids are derived, so exporting again sends the same statements (an LRS keeps one).
_IDS = uuid.UUID("6f1c3d52-4b0e-4c8e-9a51-2f2d6c1e7a90")
CHUNK = 200


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _duration(start: datetime, end: datetime) -> str:
    return f"PT{max(0, round((end - start).total_seconds()))}S"


@dataclass(frozen=True)
class _Context:
    """What every statement of one enrolment shares."""

    enrolment: Enrolment
    base: str
    programme: model.Programme | None

    @property
    def course(self) -> str:
        return f"{self.base}/xapi/programmes/{self.enrolment.programme_id}"

    @property
    def unit(self) -> str:
        return f"{self.course}/versions/{self.enrolment.programme_version or 0}"

    @property
    def move_on(self) -> str:
        quizzes = self.programme is not None and any(
            isinstance(step, model.QuizStep) for step in self.programme.all_steps()
        )
        return "CompletedAndPassed" if quizzes else "Completed"

    def statement(
        self,
        verb: str,
        *,
        source: str,
        at: datetime,
        session: str,
        target: dict[str, Any] | None = None,
        result: dict[str, Any] | None = None,
        categories: Sequence[str] = (CMI5,),
        extensions: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        context: dict[str, Any] = {
            "registration": self.enrolment.id,
            "extensions": {SESSION_ID: session, **(extensions or {})},
        }
        if categories:
            context["contextActivities"] = {"category": [{"id": c} for c in categories]}
        statement: dict[str, Any] = {
            "id": str(uuid.uuid5(_IDS, f"{self.enrolment.id}/{verb}/{source}")),
            # An account, never a name: the LRS learns who only through the force's records.
            "actor": {
                "objectType": "Agent",
                "account": {"homePage": f"{self.base}/", "name": self.enrolment.participant_id},
            },
            "verb": {"id": VERBS[verb], "display": {"en-US": verb}},
            "object": target or {"objectType": "Activity", "id": self.unit},
            "context": context,
            "timestamp": _time(at),
            "version": "1.0.3",
        }
        if result is not None:
            statement["result"] = result
        return statement


def _rule_events(events: Sequence[Event]) -> list[model.Event]:
    return [
        model.Event(id=e.id, type=e.type, step_id=e.step_id, occurred_at=e.occurred_at, data=e.data)
        for e in events
    ]


def _session_at(sessions: Sequence[Event], at: datetime, fallback: str) -> str:
    """The kiosk session (its session.started event) that was open at `at`."""
    started = [e for e in sessions if e.occurred_at <= at]
    return max(started, key=lambda e: (e.occurred_at, e.id)).id if started else fallback


def statements_for(
    ctx: _Context, events: Sequence[Event], sessions: Sequence[Event]
) -> list[dict[str, Any]]:
    """The statements one enrolment's events support, in time order."""
    enrolment = ctx.enrolment
    out = [
        ctx.statement(
            "launched",
            source=session.id,
            at=session.occurred_at,
            session=session.id,
            extensions={LAUNCH_MODE: "Normal", LAUNCH_URL: ctx.unit, MOVE_ON_RULE: ctx.move_on},
        )
        for session in sessions
        if session.occurred_at >= enrolment.assigned_at
        and (enrolment.completed_at is None or session.occurred_at <= enrolment.completed_at)
    ]
    if ctx.programme is None:
        return out
    result = progress(ctx.programme, _rule_events(events))
    out += _quiz_statements(ctx, events, sessions, result)
    if enrolment.status == EnrolmentStatus.COMPLETE and enrolment.completed_at is not None:
        out += _completion(ctx, events, sessions, enrolment.completed_at)
    # Stable: statements of one instant keep their order (completed, passed, satisfied).
    return sorted(out, key=lambda s: str(s["timestamp"]))


def _quiz_statements(
    ctx: _Context, events: Sequence[Event], sessions: Sequence[Event], result: ProgrammeProgress
) -> list[dict[str, Any]]:
    """A passed or failed statement per counted quiz attempt (cmi5 "allowed" statements: the
    object is the quiz, not the unit), and a failed unit once a quiz's attempts run out."""
    assert ctx.programme is not None
    ignored = {i.event_id for i in result.ignored_events}
    out = []
    last_attempt: dict[str, Event] = {}
    for event in events:
        if event.type != "quiz.answered" or event.id in ignored or event.step_id is None:
            continue
        step = ctx.programme.step(event.step_id)
        if not isinstance(step, model.QuizStep):
            continue
        answers = event.data.get("answers")
        given = {str(k): v for k, v in answers.items()} if isinstance(answers, dict) else {}
        score = quiz_score(step, {k: v for k, v in given.items() if isinstance(v, int)})
        out_of = len(step.questions)
        passed = score * 100 >= step.pass_mark * out_of
        last_attempt[step.id] = event
        out.append(
            ctx.statement(
                "passed" if passed else "failed",
                source=event.id,
                at=event.occurred_at,
                session=_session_at(sessions, event.occurred_at, ctx.enrolment.id),
                target={
                    "objectType": "Activity",
                    "id": f"{ctx.unit}/steps/{step.id}",
                    "definition": {"type": ASSESSMENT_TYPE, "name": {"en-GB": step.title}},
                },
                result={
                    "score": {"raw": score, "min": 0, "max": out_of, "scaled": score / out_of},
                    "success": passed,
                },
                categories=(),
            )
        )
    for module in result.modules:
        for step_progress in module.steps:
            stopped = last_attempt.get(step_progress.step_id)
            if step_progress.attempts_exhausted and stopped is not None:
                out.append(
                    ctx.statement(
                        "failed",
                        source=f"unit/{stopped.id}",
                        at=stopped.occurred_at,
                        session=_session_at(sessions, stopped.occurred_at, ctx.enrolment.id),
                        result={
                            "success": False,
                            "duration": _duration(_start(events), stopped.occurred_at),
                        },
                        categories=(CMI5, MOVE_ON),
                    )
                )
    return out


def _start(events: Sequence[Event]) -> datetime:
    return min(e.occurred_at for e in events)


def _completion(
    ctx: _Context, events: Sequence[Event], sessions: Sequence[Event], at: datetime
) -> list[dict[str, Any]]:
    """Completed (and passed, where the unit has quizzes) for the unit, then satisfied for
    the programme as a whole."""
    session = _session_at(sessions, at, ctx.enrolment.id)
    duration = _duration(_start(events), at) if events else "PT0S"
    out = [
        ctx.statement(
            "completed",
            source="unit",
            at=at,
            session=session,
            result={"completion": True, "duration": duration},
            categories=(CMI5, MOVE_ON),
        )
    ]
    if ctx.move_on == "CompletedAndPassed":
        out.append(
            ctx.statement(
                "passed",
                source="unit",
                at=at,
                session=session,
                result={"success": True, "duration": duration},
                categories=(CMI5, MOVE_ON),
            )
        )
    out.append(
        ctx.statement(
            "satisfied",
            source="course",
            at=at,
            session=session,
            target={
                "objectType": "Activity",
                "id": ctx.course,
                "definition": {"type": COURSE_TYPE},
            },
        )
    )
    return out


def statements(
    s: Session, *, enrolments: Sequence[Enrolment], base: str, programmes: Programmes
) -> Iterator[dict[str, Any]]:
    """Every statement of `enrolments`, a chunk of enrolments (one query each) at a time."""
    for i in range(0, len(enrolments), CHUNK):
        chunk = enrolments[i : i + CHUNK]
        keys = {(e.programme_id, e.programme_version) for e in chunk if e.programme_version}
        parsed = programmes.of(s, keys)
        by_enrolment: dict[str, list[Event]] = defaultdict(list)
        for event in s.scalars(
            select(Event)
            .where(Event.enrolment_id.in_([e.id for e in chunk]))
            .order_by(Event.occurred_at, Event.id)
        ):
            by_enrolment[event.enrolment_id or ""].append(event)
        by_participant: dict[str, list[Event]] = defaultdict(list)
        for event in s.scalars(
            select(Event)
            .where(
                Event.participant_id.in_({e.participant_id for e in chunk}),
                Event.type == "session.started",
            )
            .order_by(Event.occurred_at, Event.id)
        ):
            by_participant[event.participant_id].append(event)
        for enrolment in chunk:
            programme = (
                parsed.get((enrolment.programme_id, enrolment.programme_version))
                if enrolment.programme_version
                else None
            )
            ctx = _Context(enrolment=enrolment, base=base, programme=programme)
            yield from statements_for(
                ctx, by_enrolment[enrolment.id], by_participant[enrolment.participant_id]
            )


def json_array(
    sessions: SessionFactory,
    *,
    enrolment_ids: Select[str],
    base: str,
    programmes: Programmes,
) -> Iterator[bytes]:
    """The statements of the enrolments `enrolment_ids` selects, in its order, as one JSON
    array written as it is built."""
    with sessions() as s:
        # Ids first, then whole enrolments a chunk at a time: memory stays flat.
        ids = list(s.scalars(enrolment_ids))
        yield b"["
        first = True
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i : i + CHUNK]
            enrolments = s.scalars(select(Enrolment).where(Enrolment.id.in_(chunk))).all()
            ordered = sorted(enrolments, key=lambda e: (e.assigned_at, e.id))
            for statement in statements(s, enrolments=ordered, base=base, programmes=programmes):
                yield (b"\n" if first else b",\n") + json.dumps(statement).encode("utf-8")
                first = False
            s.expunge_all()
        yield b"\n]\n"
