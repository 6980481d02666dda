"""Deadlines: overdue, at-risk and late-completed enrolments in the user's force, and the
outcomes an officer records, each audited, each moving the enrolment and reaching its kiosks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sync_server import protocol
from sync_server.db import SessionFactory
from sync_server.models import AuditEntry, Enrolment, Outcome
from tests.dashboard.pages import table
from tests.dashboard.scheme import Person, Scheme, register, signed_in, work
from tests.support.device import TestDevice
from tests.support.journeys import whole_programme
from tests.support.world import World

TODAY = date.today()
REASON = "Spent a week in hospital; the doctor's letter is on file."


@pytest.fixture
def late_finisher(scheme: Scheme, world: World) -> Person:
    """Erin: due two days ago, and finished the whole programme only now."""
    kiosk = scheme.north_kiosk
    now = datetime.now(UTC)
    erin, events = register(
        kiosk,
        first_name="Erin",
        due=TODAY - timedelta(days=2),
        assigned_at=now - timedelta(days=30),
    )
    events += work(kiosk, erin, whole_programme(world.programme), start=now - timedelta(hours=1))
    kiosk.push_ok(events)
    return erin


def names(page: str, testid: str) -> list[str]:
    return [row[0] for row in table(page, testid) if len(row) > 1]


def outcome(
    client: TestClient, csrf: str, person: Person, kind: str, reason: str = REASON, due: str = ""
) -> tuple[int, str]:
    response = client.post(
        f"/dashboard/outcomes/{person.enrolment_id}/deadline",
        data={"csrf_token": csrf, "kind": kind, "reason": reason, "new_due_date": due},
    )
    return response.status_code, response.headers.get("location", response.text)


def enrolment(sessions: SessionFactory, person: Person) -> Enrolment:
    with sessions() as s:
        found = s.get(Enrolment, person.enrolment_id)
    assert found is not None
    return found


def pulled(kiosk: TestDevice, person: Person) -> protocol.EnrolmentState:
    states = [
        protocol.change_data(c)
        for c in kiosk.pull_all()
        if c.kind == "enrolment" and c.id == person.enrolment_id
    ]
    assert isinstance(states[-1], protocol.EnrolmentState)
    return states[-1]


@pytest.mark.usefixtures("late_finisher")
@pytest.mark.parametrize(
    ("username", "overdue", "at_risk", "late"),
    [
        ("north.officer", ["Carol"], ["Dylan"], ["Erin"]),
        ("scheme.admin", ["Carol"], ["Dylan"], ["Erin"]),
        ("south.officer", [], [], []),
    ],
)
def test_the_lists_hold_the_users_force_only(
    client: TestClient, username: str, overdue: list[str], at_risk: list[str], late: list[str]
) -> None:
    signed_in(client, username)
    page = client.get("/dashboard/deadlines").text

    found = {testid: names(page, testid) for testid in ("overdue", "at-risk", "late")}
    assert found == {"overdue": overdue, "at-risk": at_risk, "late": late}
    assert all(row[5] == "None yet" for row in table(page, "overdue") if len(row) > 1)


def test_an_extension_moves_the_due_date_on_the_server_and_the_kiosk(
    client: TestClient, scheme: Scheme, sessions: SessionFactory
) -> None:
    carol = scheme.late
    new_due = TODAY + timedelta(days=5)
    csrf = signed_in(client, "north.officer")

    answer = outcome(client, csrf, carol, "extended", due=new_due.isoformat())

    assert answer == (303, f"/dashboard/outcomes/{carol.enrolment_id}?recorded=deadline")
    page = client.get(answer[1]).text
    assert "The outcome is recorded." in page
    [action] = table(page, "actions")
    assert action[0] == "Extended"
    assert action[1] == REASON
    assert action[2] == f"{(TODAY - timedelta(days=3)):%d %b %Y} → {new_due:%d %b %Y}"
    deadlines = client.get("/dashboard/deadlines").text
    assert names(deadlines, "overdue") == []
    # Due in five days with nothing done: at risk now, with the action taken beside it.
    [carol_row] = [r for r in table(deadlines, "at-risk") if r[0] == "Carol"]
    assert carol_row[5].startswith(f"Extended to {new_due:%d %b %Y}")
    assert carol_row[5].endswith("by North Officer")
    stored = enrolment(sessions, carol)
    assert (stored.due_date, stored.status.value) == (new_due, "assigned")
    assert pulled(scheme.north_kiosk, carol).due_date == new_due
    with sessions() as s:
        row = s.scalars(select(Outcome)).one()
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "deadline.extended")).one()
    assert (row.previous_due_date, row.new_due_date, row.reason) == (
        TODAY - timedelta(days=3),
        new_due,
        REASON,
    )
    assert (entry.actor, entry.subject, entry.force_id) == (
        "north.officer",
        carol.participant_id,
        "north",
    )
    assert entry.details["new_due_date"] == new_due.isoformat()
    assert "hospital" not in str(entry.details)


@pytest.mark.parametrize(
    ("due", "reason", "message"),
    [
        ("", REASON, "Give the new due date as a date (YYYY-MM-DD)."),
        ("05/12/2026", REASON, "Give the new due date as a date (YYYY-MM-DD)."),
        ((TODAY - timedelta(days=1)).isoformat(), REASON, "must be later than the current one"),
        ((TODAY - timedelta(days=3)).isoformat(), REASON, "must be later than the current one"),
        ((TODAY + timedelta(days=400)).isoformat(), REASON, "within a year from today"),
        ((TODAY + timedelta(days=7)).isoformat(), "  ", "Give the reason for this outcome."),
        ((TODAY + timedelta(days=7)).isoformat(), "x" * 2001, "longer than 2000 characters"),
    ],
)
def test_a_bad_extension_is_refused_and_changes_nothing(
    client: TestClient,
    scheme: Scheme,
    sessions: SessionFactory,
    due: str,
    reason: str,
    message: str,
) -> None:
    carol = scheme.late
    csrf = signed_in(client, "north.officer")

    status, body = outcome(client, csrf, carol, "extended", reason=reason, due=due)

    assert status == 400
    assert message in body
    assert 'data-testid="deadline-form"' in body
    assert enrolment(sessions, carol).due_date == TODAY - timedelta(days=3)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Outcome)) == 0


def test_a_breach_closes_the_enrolment_for_good(
    client: TestClient, scheme: Scheme, sessions: SessionFactory, world: World
) -> None:
    carol, kiosk = scheme.late, scheme.north_kiosk
    csrf = signed_in(client, "north.supervisor")

    assert outcome(client, csrf, carol, "breached")[0] == 303
    # The participant carries on at the kiosk afterwards: the enrolment stays closed.
    step = world.programme.modules[0].steps[0]
    kiosk.push_ok(
        [
            kiosk.event(
                "step.viewed",
                participant_id=carol.participant_id,
                enrolment_id=carol.enrolment_id,
                step_id=step.id,
                data={"dwell_ms": 60_000},
            )
        ]
    )

    assert enrolment(sessions, carol).status.value == "withdrawn"
    assert pulled(kiosk, carol).status == "withdrawn"
    assert names(client.get("/dashboard/deadlines").text, "overdue") == []
    page = client.get(f"/dashboard/outcomes/{carol.enrolment_id}").text
    assert table(page, "actions")[0][0] == "Breached, referred for prosecution"
    assert 'data-testid="deadline-form"' not in page
    assert (
        outcome(client, csrf, carol, "extended", due=(TODAY + timedelta(days=9)).isoformat())[0]
        == 400
    )


@pytest.mark.usefixtures("late_finisher")
@pytest.mark.parametrize(
    ("who", "kind"),
    [
        ("soon", "breached"),  # not yet due
        ("finished", "completed_late"),  # finished on time
        ("finished", "extended"),  # already complete
        ("late", "completed_late"),  # not complete at all
        ("late", "withdrawn"),  # not an outcome
    ],
)
def test_an_outcome_that_does_not_fit_the_enrolment_is_refused(
    client: TestClient, scheme: Scheme, sessions: SessionFactory, who: str, kind: str
) -> None:
    person: Person = getattr(scheme, who)
    before = enrolment(sessions, person)
    csrf = signed_in(client, "north.officer")

    status, body = outcome(client, csrf, person, kind, due=(TODAY + timedelta(days=9)).isoformat())

    assert status == 400
    assert "cannot be recorded for this enrolment now" in body or "Choose an outcome." in body
    after = enrolment(sessions, person)
    assert (after.status, after.due_date) == (before.status, before.due_date)


def test_a_late_completion_is_recorded_once_with_its_reason(
    client: TestClient, late_finisher: Person, sessions: SessionFactory
) -> None:
    csrf = signed_in(client, "north.officer")
    page = client.get(f"/dashboard/outcomes/{late_finisher.enrolment_id}").text
    assert "after the due date" in page

    first = outcome(client, csrf, late_finisher, "completed_late")
    second = outcome(client, csrf, late_finisher, "completed_late")

    assert first[0] == 303
    assert second[0] == 400
    assert names(client.get("/dashboard/deadlines").text, "late") == []
    assert enrolment(sessions, late_finisher).status.value == "completed"
    with sessions() as s:
        assert s.scalars(select(Outcome.kind)).all() == ["completed_late"]
        assert s.scalars(
            select(AuditEntry.subject).where(AuditEntry.action == "deadline.completed_late")
        ).all() == [late_finisher.participant_id]


def test_another_forces_enrolment_is_not_found_and_stays_unchanged(
    client: TestClient, scheme: Scheme, sessions: SessionFactory
) -> None:
    csrf = signed_in(client, "south.officer")
    carol = scheme.late

    seen = client.get(f"/dashboard/outcomes/{carol.enrolment_id}")
    posted = outcome(client, csrf, carol, "breached")

    assert seen.status_code == posted[0] == 404
    assert "Carol" not in seen.text
    assert enrolment(sessions, carol).status.value == "assigned"
    with sessions() as s:
        refused = s.scalars(
            select(AuditEntry.subject).where(AuditEntry.action == "outcomes.view_refused")
        ).all()
    assert refused == [carol.enrolment_id] * 2


def test_an_outcome_without_the_forms_token_is_refused(
    client: TestClient, scheme: Scheme, sessions: SessionFactory
) -> None:
    signed_in(client, "north.officer")

    status, body = outcome(client, "forged", scheme.late, "breached")

    assert status == 403
    assert "Form refused" in body
    assert enrolment(sessions, scheme.late).status.value == "assigned"


@pytest.mark.usefixtures("scheme")
def test_viewing_the_lists_is_audited_by_record_not_by_name(
    client: TestClient, scheme: Scheme, sessions: SessionFactory
) -> None:
    signed_in(client, "north.officer")
    client.get("/dashboard/deadlines")

    with sessions() as s:
        listed = s.scalars(select(AuditEntry).where(AuditEntry.action == "deadlines.listed")).one()
    assert listed.details["shown"] == sorted(
        [scheme.late.participant_id, scheme.soon.participant_id]
    )
    assert "Carol" not in str(listed.details)
