"""Exports: enrolments and outcomes as CSV (force-scoped, audited, formula-safe), and xAPI
statements with cmi5 verbs, each validated by Ralph's xAPI statement models."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ralph.models.xapi.base.statements import BaseXapiStatement
from sqlalchemy import select, update

from sync_server.dashboard import xapi
from sync_server.dashboard.exports import cell
from sync_server.db import SessionFactory
from sync_server.models import (
    AuditEntry,
    Outcome,
    Participant,
    ReoffendingRecord,
    StaffUser,
)
from tests.dashboard.scheme import Scheme, signed_in

NORTH = {"Alice", "Bobby", "Carol", "Dylan"}


def rows(client: TestClient, path: str, **params: str) -> list[dict[str, str]]:
    response = client.get(f"/dashboard/exports/{path}", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def statements(client: TestClient, **params: str) -> list[dict[str, Any]]:
    response = client.get("/dashboard/exports/xapi.json", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def enrolment_ids(scheme: Scheme, names: set[str]) -> set[str]:
    people = [scheme.finished, scheme.started, scheme.late, scheme.soon, scheme.southern]
    return {p.enrolment_id for p in people if p.first_name in names}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("REF/123=4", "REF/123=4"),
        ("", ""),
        (None, ""),
        (7, "7"),
        (True, "yes"),
        (date(2026, 3, 1), "2026-03-01"),
        (datetime(2026, 3, 1, 9, 30, tzinfo=UTC), "2026-03-01T09:30:00Z"),
    ],
)
def test_cells(value: object, expected: str) -> None:
    assert cell(value) == expected


@pytest.mark.parametrize(
    ("username", "names"),
    [("north.supervisor", NORTH), ("north.admin", NORTH), ("scheme.admin", NORTH | {"Sienna"})],
)
def test_the_enrolments_csv_holds_the_users_force(
    client: TestClient, scheme: Scheme, username: str, names: set[str]
) -> None:
    signed_in(client, username)
    exported = rows(client, "enrolments.csv")

    assert {r["enrolment_id"] for r in exported} == enrolment_ids(scheme, names)
    finished = next(r for r in exported if r["enrolment_id"] == scheme.finished.enrolment_id)
    assert finished["status"] == "completed"
    assert finished["progress_percent"] == "100"
    assert finished["force_reference"] == f"REF/{scheme.finished.access_code}"
    assert finished["completed_at"].endswith("Z")
    late = next(r for r in exported if r["enrolment_id"] == scheme.late.enrolment_id)
    assert (late["overdue"], finished["overdue"]) == ("yes", "no")


def test_exports_carry_no_names(client: TestClient, scheme: Scheme) -> None:
    signed_in(client, "scheme.admin")
    for path in ("enrolments.csv", "outcomes.csv", "xapi.json"):
        body = client.get(f"/dashboard/exports/{path}").text
        assert not any(name in body for name in NORTH | {"Sienna"}), path


def test_a_formula_in_a_force_reference_is_defused(
    client: TestClient, scheme: Scheme, sessions: SessionFactory
) -> None:
    with sessions.begin() as s:
        s.execute(
            update(Participant)
            .where(Participant.id == scheme.late.participant_id)
            .values(force_reference='=HYPERLINK("http://x.test","click")')
        )
    signed_in(client, "north.supervisor")

    exported = rows(client, "enrolments.csv")

    late = next(r for r in exported if r["enrolment_id"] == scheme.late.enrolment_id)
    assert late["force_reference"] == '\'=HYPERLINK("http://x.test","click")'


def test_the_period_narrows_by_assignment_day(client: TestClient, scheme: Scheme) -> None:
    signed_in(client, "north.supervisor")
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    week_ago = (date.today() - timedelta(days=7)).isoformat()
    two_days_ago = (date.today() - timedelta(days=2)).isoformat()

    assert rows(client, "enrolments.csv", **{"from": tomorrow}) == []
    old = rows(client, "enrolments.csv", **{"from": week_ago, "to": two_days_ago})
    assert [r["enrolment_id"] for r in old] == [scheme.finished.enrolment_id]


def test_a_bad_period_is_refused_with_a_message(client: TestClient, scheme: Scheme) -> None:
    signed_in(client, "north.supervisor")
    response = client.get("/dashboard/exports/enrolments.csv", params={"from": "31/12/2025"})
    assert response.status_code == 400
    assert "is not a date (use YYYY-MM-DD)" in response.text


def test_the_outcomes_csv_holds_deadline_and_reoffending_records(
    client: TestClient, scheme: Scheme, sessions: SessionFactory
) -> None:
    now = datetime.now(UTC)
    with sessions.begin() as s:
        admin_id = s.scalars(select(StaffUser.id).where(StaffUser.username == "north.admin")).one()
        s.add_all(
            [
                Outcome(
                    enrolment_id=scheme.late.enrolment_id,
                    kind="extended",
                    reason="@SUM(1+1) illness",
                    recorded_by=admin_id,
                    at=now,
                    previous_due_date=date.today() - timedelta(days=3),
                    new_due_date=date.today() + timedelta(days=11),
                ),
                Outcome(
                    enrolment_id=scheme.southern.enrolment_id,
                    kind="breached",
                    reason="south",
                    recorded_by=admin_id,
                    at=now,
                ),
                ReoffendingRecord(
                    enrolment_id=scheme.finished.enrolment_id,
                    months=3,
                    reoffended=False,
                    recorded_by=admin_id,
                    at=now,
                ),
            ]
        )
    signed_in(client, "north.supervisor")

    exported = rows(client, "outcomes.csv")

    assert [(r["enrolment_id"], r["record"], r["kind"]) for r in exported] == [
        (scheme.late.enrolment_id, "deadline", "extended"),
        (scheme.finished.enrolment_id, "reoffending", "reoffending within 3 months"),
    ]
    extended, reoffending = exported
    assert extended["reason"] == "'@SUM(1+1) illness"
    assert extended["new_due_date"] == (date.today() + timedelta(days=11)).isoformat()
    assert extended["recorded_by"] == "north.admin"
    assert (reoffending["reoffended"], reoffending["months"]) == ("no", "3")


def test_exports_are_audited_with_the_period(
    client: TestClient, scheme: Scheme, sessions: SessionFactory
) -> None:
    signed_in(client, "north.supervisor")
    client.get("/dashboard/exports/enrolments.csv", params={"from": "2026-01-01"})
    client.get("/dashboard/exports/outcomes.csv")
    client.get("/dashboard/exports/xapi.json")

    with sessions() as s:
        entries = s.execute(
            select(AuditEntry.action, AuditEntry.force_id, AuditEntry.details)
            .where(AuditEntry.action.like("export.%"))
            .order_by(AuditEntry.id)
        ).all()
    assert [(a, f) for a, f, _ in entries] == [
        ("export.enrolments", "north"),
        ("export.outcomes", "north"),
        ("export.xapi", "north"),
    ]
    assert entries[0][2]["from"] == "2026-01-01"


@pytest.mark.parametrize("username", ["north.officer", "north.content"])
def test_only_supervisors_and_admins_export(
    client: TestClient, scheme: Scheme, username: str
) -> None:
    signed_in(client, username)
    for path in ("", "/enrolments.csv", "/outcomes.csv", "/xapi.json"):
        assert client.get(f"/dashboard/exports{path}").status_code == 403, path


# --- xAPI ------------------------------------------------------------------------------------


@pytest.fixture
def sessions_started(scheme: Scheme) -> list[str]:
    """Alice signed in on the kiosk the day she did the whole programme, and once more after."""
    kiosk = scheme.north_kiosk
    done_from = datetime.now(UTC) - timedelta(days=1)
    events = [
        kiosk.event(
            "session.started",
            participant_id=scheme.finished.participant_id,
            occurred_at=done_from - timedelta(minutes=1),
        ),
        kiosk.event(
            "session.started",
            participant_id=scheme.started.participant_id,
            occurred_at=datetime.now(UTC) - timedelta(minutes=90),
        ),
    ]
    kiosk.push_ok(events)
    return [e.id for e in events]


def test_every_statement_is_valid_xapi(
    client: TestClient, scheme: Scheme, sessions_started: list[str]
) -> None:
    signed_in(client, "scheme.admin")
    exported = statements(client)

    assert len(exported) > 5
    for statement in exported:
        BaseXapiStatement.model_validate(statement)
    assert {s["verb"]["id"] for s in exported} == set(xapi.VERBS.values())


def test_a_broken_statement_fails_the_validator(
    client: TestClient, scheme: Scheme, sessions_started: list[str]
) -> None:
    signed_in(client, "north.supervisor")
    statement = statements(client)[0]
    statement["verb"]["id"] = "launched"  # not an IRI

    with pytest.raises(ValueError, match="IRI"):
        BaseXapiStatement.model_validate(statement)


def test_the_statements_follow_cmi5(
    client: TestClient, scheme: Scheme, sessions_started: list[str]
) -> None:
    signed_in(client, "north.supervisor")
    exported = statements(client)
    alice = [s for s in exported if s["context"]["registration"] == scheme.finished.enrolment_id]
    unit = "https://testserver/xapi/programmes/alcohol-and-you/versions/1"

    verbs = [s["verb"]["display"]["en-US"] for s in alice]
    assert verbs[0] == "launched"
    assert verbs[-3:] == ["completed", "passed", "satisfied"]
    for statement in alice:
        assert statement["actor"]["account"]["name"] == scheme.finished.participant_id
        assert statement["context"]["extensions"][xapi.SESSION_ID] == sessions_started[0]
        categories = {
            c["id"] for c in statement["context"].get("contextActivities", {}).get("category", [])
        }
        if statement["verb"]["display"]["en-US"] == "satisfied":
            assert statement["object"]["definition"]["type"] == xapi.COURSE_TYPE
        elif xapi.CMI5 in categories:
            assert statement["object"]["id"] == unit
        else:  # an allowed statement about a quiz, never about the unit itself
            assert statement["object"]["id"].startswith(f"{unit}/steps/")
    completed = next(s for s in alice if s["verb"]["display"]["en-US"] == "completed")
    assert completed["result"]["completion"] is True
    assert completed["result"]["duration"].startswith("PT")
    launched = alice[0]
    assert launched["context"]["extensions"][xapi.MOVE_ON_RULE] == "CompletedAndPassed"


def test_a_failed_quiz_attempt_is_a_failed_statement_with_its_score(
    client: TestClient, scheme: Scheme, sessions_started: list[str]
) -> None:
    signed_in(client, "north.supervisor")
    bobby = [
        s for s in statements(client) if s["context"]["registration"] == scheme.started.enrolment_id
    ]

    failed = [s for s in bobby if s["verb"]["id"] == xapi.VERBS["failed"]]
    assert len(failed) == 1
    assert failed[0]["result"]["success"] is False
    assert failed[0]["result"]["score"]["raw"] == 0
    assert failed[0]["context"]["extensions"][xapi.SESSION_ID] == sessions_started[1]
    assert not any(s["verb"]["id"] == xapi.VERBS["completed"] for s in bobby)


def test_statements_are_scoped_and_stable(
    client: TestClient, scheme: Scheme, sessions_started: list[str]
) -> None:
    signed_in(client, "north.supervisor")
    first = statements(client)
    again = statements(client)

    assert first == again
    registrations = {s["context"]["registration"] for s in first}
    assert scheme.southern.enrolment_id not in registrations
    assert registrations <= enrolment_ids(scheme, NORTH)
