"""The participant list (search, filters, pages) and a participant's record, audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sync_server.db import SessionFactory
from sync_server.models import AuditEntry, Event
from tests.dashboard.pages import figure, table, text
from tests.dashboard.scheme import Scheme, register, signed_in
from tests.support.world import World

TODAY = date.today()


def names(page: str) -> list[str]:
    return [row[0] for row in table(page, "participants") if len(row) > 1]


# Query string: the names listed, in due-date order.
FILTERS = {
    "": ["Carol", "Dylan", "Alice", "Bobby"],
    "status=overdue": ["Carol"],
    "status=due_week": ["Dylan"],
    "status=completed": ["Alice"],
    "status=in_progress": ["Bobby"],
    "status=assigned": ["Carol", "Dylan"],
    "site=north-library": ["Dylan"],
    "programme=alcohol-and-you&status=withdrawn": [],
    "programme=no-such-programme": [],
    f"due_from={TODAY}&due_to={TODAY + timedelta(days=21)}": ["Dylan", "Alice"],
    f"due_to={TODAY}": ["Carol"],
    "q=car": ["Carol"],
    "q=BOB": ["Bobby"],
    "q=%25": [],
    "q=ref/": ["Carol", "Dylan", "Alice", "Bobby"],
}


@pytest.mark.usefixtures("scheme")
def test_search_and_filters(client: TestClient) -> None:
    signed_in(client, "north.officer")

    found = {}
    for query in FILTERS:
        page = client.get(f"/dashboard/participants?{query}").text
        found[query] = names(page)
        assert figure(page, "result-count").startswith(f"{len(found[query])} match")

    assert found == FILTERS


def test_search_by_access_code(client: TestClient, scheme: Scheme) -> None:
    signed_in(client, "north.officer")
    page = client.get(f"/dashboard/participants?q={scheme.started.access_code.lower()}").text
    assert names(page) == ["Bobby"]


@pytest.mark.usefixtures("scheme")
def test_bad_filter_values_are_ignored_with_a_message_not_an_error(client: TestClient) -> None:
    signed_in(client, "north.officer")
    bad = ["due_from=31/12/2026", "status=bogus", "page=-3", "page=x", "due_to=2026-02-30"]

    answers = {query: client.get(f"/dashboard/participants?{query}") for query in bad}

    assert {q: (r.status_code, len(names(r.text))) for q, r in answers.items()} == dict.fromkeys(
        bad, (200, 4)
    )
    assert "is not a date (use YYYY-MM-DD); ignored." in answers["due_from=31/12/2026"].text
    assert "Unknown status ignored." in answers["status=bogus"].text


def test_long_lists_are_paged(client: TestClient, scheme: Scheme, world: World) -> None:
    kiosk = scheme.north_kiosk
    events = []
    for i in range(52):
        _, made = register(
            kiosk,
            first_name=f"Extra{i:02d}",
            due=TODAY + timedelta(days=60),
            assigned_at=datetime.now(UTC),
        )
        events += made
    kiosk.push_ok(events)
    signed_in(client, "north.officer")

    first = client.get("/dashboard/participants?q=extra").text
    second = client.get("/dashboard/participants?q=extra&page=2").text

    assert len(names(first)) == 50
    assert len(names(second)) == 2
    assert "Page 1 of 2" in first
    assert 'href="/dashboard/participants?q=extra&amp;page=2"' in first
    assert set(names(first)).isdisjoint(names(second))


def test_a_participant_record_shows_enrolment_timeline_and_evidence(
    client: TestClient, scheme: Scheme, sessions: SessionFactory, world: World
) -> None:
    signed_in(client, "north.officer")
    response = client.get(f"/dashboard/participants/{scheme.started.participant_id}")
    page = response.text

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert figure(page, "participant-name") == "Bobby"
    assert "Complete the programme by the due date." in page
    assert "Conditional caution" in page
    with sessions() as s:
        stored = s.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.participant_id == scheme.started.participant_id)
        )
    timeline = table(page, "timeline")
    assert len(timeline) == stored
    assert {row[2] for row in timeline} == {"North custody kiosk"}
    assert all(row[0] and row[1] for row in timeline)  # kiosk time and server time
    assert [row[3] for row in timeline[:2]] == ["participant.registered", "enrolment.assigned"]
    wrong = [row for row in table(page, "quizzes") if row[2].startswith("0 of")]
    assert len(wrong) == 1
    assert wrong[0][1] == "1"
    assert wrong[0][3].startswith("not passed")
    first_module = table(page, "modules")[0]
    assert first_module[0] == world.programme.modules[0].title
    assert first_module[2].startswith("100%")
    assert "0 min 0 s" not in first_module[1]
    assert "In my own words word0" in page  # the reflection's text


def test_letters_are_shown_awaiting_review(client: TestClient, scheme: Scheme) -> None:
    signed_in(client, "north.supervisor")
    page = client.get(f"/dashboard/participants/{scheme.finished.participant_id}").text

    letters = [text(w) for w in page.split('data-testid="writing"')[1:] if "Letter:" in w]
    assert letters
    assert "Awaiting officer review" in letters[0]
    assert "Complete" in figure(page, "enrolment-status")


def test_every_view_of_a_record_is_audited(
    client: TestClient, scheme: Scheme, sessions: SessionFactory
) -> None:
    signed_in(client, "north.officer")
    for _ in range(2):
        client.get(f"/dashboard/participants/{scheme.late.participant_id}")

    with sessions() as s:
        views = s.scalars(select(AuditEntry).where(AuditEntry.action == "participant.viewed")).all()
    assert [(v.actor, v.subject, v.force_id) for v in views] == [
        ("north.officer", scheme.late.participant_id, "north")
    ] * 2
    assert views[0].details["enrolments"] == [scheme.late.enrolment_id]


def test_lists_audit_the_records_shown_but_not_the_search_text(
    client: TestClient, scheme: Scheme, sessions: SessionFactory
) -> None:
    signed_in(client, "north.officer")
    client.get("/dashboard/participants?q=carol")

    with sessions() as s:
        listed = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "participants.listed")
        ).one()
    assert listed.details["shown"] == [scheme.late.participant_id]
    assert "carol" not in str(listed.details).lower()


def test_someone_registered_without_a_programme_is_found_by_name(
    client: TestClient, scheme: Scheme
) -> None:
    kiosk = scheme.north_kiosk
    person, events = register(
        kiosk, first_name="Unassigned", due=TODAY, assigned_at=datetime.now(UTC)
    )
    kiosk.push_ok(events[:1])  # registered only: the assignment is never made
    signed_in(client, "north.officer")

    found = table(client.get("/dashboard/participants?q=unassigned").text, "participants")
    overdue = names(client.get("/dashboard/participants?q=unassigned&status=assigned").text)

    assert [(row[0], row[2], row[5]) for row in found] == [
        ("Unassigned", person.access_code, "No programme")
    ]
    assert overdue == []
    assert client.get(f"/dashboard/participants/{person.participant_id}").status_code == 200
