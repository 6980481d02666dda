"""Force scoping and roles: staff see only their own force, and only the pages of their role."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from sync_server.db import SessionFactory
from sync_server.models import AuditEntry
from tests.dashboard.conftest import BASE_URL
from tests.dashboard.pages import table
from tests.dashboard.scheme import Scheme, signed_in

NORTH_NAMES = {"Alice", "Bobby", "Carol", "Dylan"}


def listed(client: TestClient, query: str = "") -> set[str]:
    page = client.get(f"/dashboard/participants?{query}").text
    return {row[0] for row in table(page, "participants") if len(row) > 1}


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("north.officer", NORTH_NAMES),
        ("north.admin", NORTH_NAMES),
        ("south.officer", {"Sienna"}),
        ("scheme.admin", NORTH_NAMES | {"Sienna"}),
    ],
)
@pytest.mark.usefixtures("scheme")
def test_the_list_holds_only_the_users_force(
    client: TestClient, username: str, expected: set[str]
) -> None:
    signed_in(client, username)
    assert listed(client) == expected


def test_another_forces_participant_cannot_be_found_by_search(
    client: TestClient, scheme: Scheme
) -> None:
    signed_in(client, "north.officer")
    southern = scheme.southern

    for query in (
        "q=Sienna",
        f"q={southern.access_code}",
        f"q={southern.participant_id}",
        "site=south-custody",
        "status=in_progress&q=sie",
    ):
        assert listed(client, query) == set(), query


def test_another_forces_participant_is_not_found_by_direct_url_and_the_try_is_audited(
    client: TestClient, scheme: Scheme, sessions: SessionFactory
) -> None:
    signed_in(client, "north.officer")

    response = client.get(f"/dashboard/participants/{scheme.southern.participant_id}")
    missing = client.get("/dashboard/participants/00000000-0000-4000-8000-000000000000")

    assert response.status_code == missing.status_code == 404
    assert "Sienna" not in response.text
    assert response.text.replace(scheme.southern.participant_id, "") == missing.text.replace(
        "00000000-0000-4000-8000-000000000000", ""
    )
    with sessions() as s:
        refused = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "participant.view_refused")
        ).all()
    assert [(e.actor, e.subject) for e in refused][0] == (
        "north.officer",
        scheme.southern.participant_id,
    )


def test_a_scheme_admin_opens_any_forces_record(client: TestClient, scheme: Scheme) -> None:
    signed_in(client, "scheme.admin")
    response = client.get(f"/dashboard/participants/{scheme.southern.participant_id}")
    assert response.status_code == 200
    assert "Sienna" in response.text


@pytest.mark.parametrize(
    ("username", "allowed", "refused"),
    [
        ("north.officer", ["/", "/participants"], ["/audit"]),
        ("north.supervisor", ["/", "/participants"], ["/audit"]),
        ("north.admin", ["/", "/participants", "/audit"], []),
        ("north.content", ["/"], ["/participants", "/audit", "/participants/{id}"]),
    ],
)
def test_each_role_reaches_only_its_pages(
    client: TestClient, scheme: Scheme, username: str, allowed: list[str], refused: list[str]
) -> None:
    signed_in(client, username)
    home = client.get("/dashboard/").text

    for path in allowed:
        assert client.get(f"/dashboard{path}").status_code == 200, path
        assert f'href="/dashboard{path}"' in home, path
    for path in refused:
        response = client.get(f"/dashboard{path.format(id=scheme.late.participant_id)}")
        assert response.status_code == 403, path
        assert "Your role does not give access to this page." in response.text
        assert f'href="/dashboard{path}"' not in home, path


def test_a_forces_admin_reads_only_that_forces_audit_entries(
    client: TestClient, app: FastAPI, scheme: Scheme
) -> None:
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as south:
        signed_in(south, "south.officer")
        south.get(f"/dashboard/participants/{scheme.southern.participant_id}")
    signed_in(client, "north.officer")
    client.get(f"/dashboard/participants/{scheme.late.participant_id}")
    signed_in(client, "north.admin")

    north_view = table(client.get("/dashboard/audit?action=participant.viewed").text, "audit")
    signed_in(client, "scheme.admin")
    all_views = table(client.get("/dashboard/audit?action=participant.viewed").text, "audit")

    assert [(row[1], row[3]) for row in north_view] == [
        ("north.officer", scheme.late.participant_id)
    ]
    assert {(row[1], row[3]) for row in all_views} == {
        ("north.officer", scheme.late.participant_id),
        ("south.officer", scheme.southern.participant_id),
    }


@pytest.mark.usefixtures("scheme")
def test_the_audit_log_is_searched_by_who_record_and_date(
    client: TestClient, scheme: Scheme
) -> None:
    signed_in(client, "north.officer")
    client.get(f"/dashboard/participants/{scheme.late.participant_id}")
    client.get(f"/dashboard/participants/{scheme.started.participant_id}")
    signed_in(client, "north.admin")

    by_subject = table(
        client.get(f"/dashboard/audit?subject={scheme.started.participant_id}").text, "audit"
    )
    by_actor = table(client.get("/dashboard/audit?actor=north.officer").text, "audit")
    long_ago = table(client.get("/dashboard/audit?to=2000-01-01").text, "audit")

    assert [row[2] for row in by_subject] == ["participant.viewed"]
    assert {row[2] for row in by_actor} >= {"staff.login", "participant.viewed"}
    assert {row[1] for row in by_actor} == {"north.officer"}
    assert long_ago == [["No entries match."]]
