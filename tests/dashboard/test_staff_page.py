"""The staff page: administrators create accounts (a force's admins in their force only, scheme
admins anywhere) and disable them; a disabled account is signed out and cannot sign in."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from sync_server.db import SessionFactory
from sync_server.models import AuditEntry, StaffUser
from tests.dashboard.conftest import BASE_URL
from tests.dashboard.pages import table
from tests.dashboard.scheme import STAFF, hidden, sign_in, signed_in

pytestmark = pytest.mark.usefixtures("world")

NEW_PASSWORD = "a long first password 42"


def listed(client: TestClient) -> dict[str, list[str]]:
    page = client.get("/dashboard/staff")
    assert page.status_code == 200, page.text
    return {row[0]: row for row in table(page.text, "staff")}


def create(client: TestClient, csrf: str, **fields: str) -> tuple[int, str]:
    form = {
        "csrf_token": csrf,
        "username": "new.officer",
        "display_name": "New Officer",
        "role": "officer",
        "force": "",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
        **fields,
    }
    response = client.post("/dashboard/staff", data=form)
    return response.status_code, response.headers.get("location", response.text)


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("north.admin", {u for u, (_, f) in STAFF.items() if f == "north"}),
        ("scheme.admin", set(STAFF)),
    ],
)
def test_an_admin_lists_the_accounts_they_manage(
    client: TestClient, username: str, expected: set[str]
) -> None:
    signed_in(client, username)
    assert set(listed(client)) == expected


def test_a_forces_admin_creates_an_officer_who_can_then_sign_in(
    client: TestClient, app: FastAPI, sessions: SessionFactory
) -> None:
    csrf = signed_in(client, "north.admin")

    status, location = create(client, csrf, force="north")

    assert status == 303
    assert "The account new.officer is active." in client.get(location).text
    assert listed(client)["new.officer"][2:4] == ["officer", "north"]
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as newcomer:
        assert sign_in(newcomer, "new.officer", NEW_PASSWORD).status_code == 303
        who = newcomer.get("/dashboard/").text
    assert "New Officer · officer · north" in who
    with sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "staff.created")).one()
        stored = s.scalars(
            select(StaffUser.password_hash).where(StaffUser.username == "new.officer")
        ).one()
    assert (entry.actor, entry.subject, entry.force_id) == ("north.admin", "new.officer", "north")
    assert NEW_PASSWORD not in str(entry.details)
    assert stored.startswith("$argon2id$")


def test_a_forces_admin_adds_accounts_to_their_own_force_only(client: TestClient) -> None:
    csrf = signed_in(client, "north.admin")

    to_south, page = create(client, csrf, force="south")
    unnamed, _ = create(client, csrf, username="north.second", role="admin", force="")

    assert to_south == 400
    assert "You may add accounts to your own force only." in page
    assert unnamed == 303
    assert listed(client)["north.second"][2:4] == ["admin", "north"]


def test_a_scheme_admin_may_create_scheme_admins_but_not_scheme_officers(
    client: TestClient,
) -> None:
    csrf = signed_in(client, "scheme.admin")

    officer, page = create(client, csrf, force="")
    chief, _ = create(client, csrf, username="scheme.second", role="admin", force="")

    assert officer == 400
    assert "needs a force; only admins may have none" in page
    assert chief == 303
    assert listed(client)["scheme.second"][2:4] == ["admin", "whole scheme"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password": "short", "password_again": "short"}, "at least 12 characters"),
        ({"password_again": "something else entirely"}, "The two passwords differ."),
        ({"username": "North Officer!"}, "Invalid username"),
        ({"username": "north.officer"}, "already exists"),
        ({"role": "superuser"}, "Choose a role."),
    ],
)
def test_a_refused_account_says_why_and_never_echoes_the_password(
    client: TestClient, fields: dict[str, str], message: str
) -> None:
    csrf = signed_in(client, "north.admin")

    status, page = create(client, csrf, force="north", **fields)

    assert status == 400
    error = page.split('data-testid="staff-error">', 1)[1].split("</p>", 1)[0]
    assert message in error.replace("&#39;", "'")
    assert fields.get("password", NEW_PASSWORD) not in page
    assert "something else entirely" not in page
    assert 'value="New Officer"' in page  # what was typed is kept, but no password


def test_disabling_signs_the_account_out_and_keeps_it_out_until_enabled(
    client: TestClient, app: FastAPI, sessions: SessionFactory
) -> None:
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as officer:
        signed_in(officer, "north.officer")
        csrf = signed_in(client, "north.admin")

        disabled = client.post("/dashboard/staff/north.officer/disable", data={"csrf_token": csrf})

        assert disabled.status_code == 303
        assert (
            "The account north.officer is disabled."
            in client.get(disabled.headers["location"]).text
        )
        assert officer.get("/dashboard/").status_code == 303
        assert sign_in(officer, "north.officer").status_code == 401

        client.post("/dashboard/staff/north.officer/enable", data={"csrf_token": csrf})
        assert sign_in(officer, "north.officer").status_code == 303
    with sessions() as s:
        actions = s.execute(
            select(AuditEntry.action, AuditEntry.actor)
            .where(AuditEntry.subject == "north.officer")
            .order_by(AuditEntry.id)
        ).all()
    assert [tuple(a) for a in actions] == [
        ("staff.disabled", "north.admin"),
        ("staff.enabled", "north.admin"),
    ]


def set_password(
    client: TestClient, csrf: str, username: str, password: str, again: str | None = None
) -> tuple[int, str]:
    form = {"csrf_token": csrf, "password": password, "password_again": again or password}
    response = client.post(f"/dashboard/staff/{username}/password", data=form)
    return response.status_code, response.headers.get("location", response.text)


def test_a_new_password_signs_the_account_out_and_only_the_new_one_works(
    client: TestClient, app: FastAPI, sessions: SessionFactory
) -> None:
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as officer:
        signed_in(officer, "north.officer")
        csrf = signed_in(client, "north.admin")
        page = client.get("/dashboard/staff").text
        assert 'aria-label="Set the new password of north.officer"' in page

        status, location = set_password(client, csrf, "north.officer", NEW_PASSWORD)

        assert status == 303
        notice = client.get(location).text
        assert "north.officer has a new password: give it to them in person." in notice
        assert NEW_PASSWORD not in notice
        assert officer.get("/dashboard/").status_code == 303  # signed out at once
        assert sign_in(officer, "north.officer").status_code == 401  # the old password
        assert sign_in(officer, "north.officer", NEW_PASSWORD).status_code == 303
    with sessions() as s:
        actions = s.execute(
            select(AuditEntry.action, AuditEntry.actor)
            .where(AuditEntry.subject == "north.officer")
            .order_by(AuditEntry.id)
        ).all()
    assert [tuple(a) for a in actions] == [("staff.password_set", "north.admin")]


def test_a_new_password_clears_a_lockout(client: TestClient, app: FastAPI) -> None:
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as officer:
        for _ in range(12):  # well past the lockout
            sign_in(officer, "north.officer", "not the password at all")
        assert sign_in(officer, "north.officer").status_code != 303
        csrf = signed_in(client, "north.admin")
        assert set_password(client, csrf, "north.officer", NEW_PASSWORD)[0] == 303
        assert sign_in(officer, "north.officer", NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("password", "again", "message"),
    [
        (NEW_PASSWORD, NEW_PASSWORD + "x", "The two passwords differ."),
        ("too short", None, "Password must be at least 12 characters."),
    ],
)
def test_a_refused_new_password_says_why_and_changes_nothing(
    client: TestClient, sessions: SessionFactory, password: str, again: str | None, message: str
) -> None:
    with sessions() as s:
        before = s.scalar(
            select(StaffUser.password_hash).where(StaffUser.username == "north.officer")
        )
    csrf = signed_in(client, "north.admin")
    status, text = set_password(client, csrf, "north.officer", password, again)
    assert status == 400
    assert message in text
    assert password not in text
    with sessions() as s:
        after = s.scalar(
            select(StaffUser.password_hash).where(StaffUser.username == "north.officer")
        )
    assert after == before


@pytest.mark.parametrize("target", ["south.officer", "scheme.admin", "nobody"])
def test_a_forces_admin_cannot_set_passwords_beyond_their_force(
    client: TestClient, sessions: SessionFactory, target: str
) -> None:
    with sessions() as s:
        before = dict(s.execute(select(StaffUser.username, StaffUser.password_hash)).all())
    csrf = signed_in(client, "north.admin")
    assert set_password(client, csrf, target, NEW_PASSWORD)[0] == 404
    assert set_password(client, "forged", "north.officer", NEW_PASSWORD)[0] == 403
    with sessions() as s:
        assert dict(s.execute(select(StaffUser.username, StaffUser.password_hash)).all()) == before


def test_an_admin_cannot_disable_their_own_account(client: TestClient) -> None:
    csrf = signed_in(client, "north.admin")
    response = client.post("/dashboard/staff/north.admin/disable", data={"csrf_token": csrf})
    assert response.status_code == 400
    assert "You cannot disable your own account." in response.text
    assert 'aria-label="Disable north.admin"' not in client.get("/dashboard/staff").text


@pytest.mark.parametrize("target", ["south.officer", "scheme.admin", "nobody"])
def test_a_forces_admin_cannot_touch_accounts_beyond_their_force(
    client: TestClient, sessions: SessionFactory, target: str
) -> None:
    csrf = signed_in(client, "north.admin")
    response = client.post(f"/dashboard/staff/{target}/disable", data={"csrf_token": csrf})
    assert response.status_code == 404
    with sessions() as s:
        assert not any(s.scalars(select(StaffUser.disabled)))


def test_staff_changes_need_the_forms_token(client: TestClient, sessions: SessionFactory) -> None:
    signed_in(client, "north.admin")
    page = client.get("/dashboard/staff").text
    assert hidden(page, "csrf_token")

    assert create(client, "forged", force="north")[0] == 403
    refused = client.post("/dashboard/staff/north.officer/disable", data={"csrf_token": "forged"})

    assert refused.status_code == 403
    with sessions() as s:
        assert s.scalar(select(StaffUser).where(StaffUser.username == "new.officer")) is None
        assert not any(s.scalars(select(StaffUser.disabled)))


@pytest.mark.parametrize("username", ["north.officer", "north.supervisor", "north.content"])
def test_only_admins_manage_staff(client: TestClient, username: str) -> None:
    csrf = signed_in(client, username)
    assert client.get("/dashboard/staff").status_code == 403
    assert create(client, csrf, force="north")[0] == 403
    assert set_password(client, csrf, "north.officer", NEW_PASSWORD)[0] == 403
