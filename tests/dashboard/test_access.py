"""Signing in and out: passwords, lockout, session cookies, timeouts, CSRF and headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from sync_server.app import create_app
from sync_server.dashboard.models import StaffLoginFailure, StaffSession
from sync_server.db import SessionFactory
from sync_server.models import AuditEntry, Role, StaffUser
from sync_server.services import admin
from sync_server.settings import Settings
from tests.dashboard.conftest import BASE_URL
from tests.dashboard.scheme import PASSWORD, hidden, sign_in, signed_in

pytestmark = pytest.mark.usefixtures("world")


def session_cookie(response_headers: list[str]) -> SimpleCookie:
    cookie: SimpleCookie = SimpleCookie()
    for header in response_headers:
        cookie.load(header)
    return cookie


def actions(sessions: SessionFactory) -> list[tuple[str, str]]:
    with sessions() as s:
        rows = s.execute(select(AuditEntry.actor, AuditEntry.action).order_by(AuditEntry.id))
        return [(actor, action) for actor, action in rows]


def test_signing_in_sets_a_strict_secure_http_only_host_cookie(client: TestClient) -> None:
    response = sign_in(client, "north.officer")

    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/"
    cookies = session_cookie(response.headers.get_list("set-cookie"))
    session = cookies["__Host-ik-session"]
    assert session["httponly"] is True
    assert session["secure"] is True
    assert session["samesite"] == "strict"
    assert session["path"] == "/"
    assert len(session.value) >= 40


def test_the_session_token_is_stored_only_as_a_hash(
    client: TestClient, sessions: SessionFactory
) -> None:
    sign_in(client, "north.officer")
    token = client.cookies["__Host-ik-session"]

    with sessions() as s:
        stored = s.scalars(select(StaffSession.token_hash)).all()

    assert len(stored) == 1
    assert token not in stored[0]
    assert len(stored[0]) == 64


def test_a_plain_http_development_server_sends_cookies_without_secure(
    settings: Settings, engine: Engine
) -> None:
    dev = Settings(
        database_url=settings.database_url,
        data_dir=settings.data_dir,
        dashboard_secure_cookies=False,
    )
    with TestClient(
        create_app(dev, engine=engine), base_url="http://testserver", follow_redirects=False
    ) as http:
        response = sign_in(http, "north.officer")

    assert response.status_code == 303, response.text
    session = session_cookie(response.headers.get_list("set-cookie"))["ik-session"]
    assert session["secure"] == ""
    assert session["httponly"] is True


def test_pages_need_a_session_and_come_back_after_signing_in(client: TestClient) -> None:
    first = client.get("/dashboard/participants?status=overdue")
    assert first.status_code == 303
    assert first.headers["location"].startswith("/dashboard/login?next=")

    login = client.get(first.headers["location"])
    response = client.post(
        "/dashboard/login",
        data={
            "token": hidden(login.text, "token"),
            "next": "/dashboard/participants?status=overdue",
            "username": "north.officer",
            "password": PASSWORD,
        },
    )

    assert response.headers["location"] == "/dashboard/participants?status=overdue"
    assert client.get(response.headers["location"]).status_code == 200


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/dashboard/\\evil",
        "/dashboard/../api/v1/sync/pull",
        "/api/v1/sync/pull",
        "",
    ],
)
def test_after_sign_in_only_dashboard_paths_are_followed(
    client: TestClient, next_path: str
) -> None:
    login = client.get("/dashboard/login")
    response = client.post(
        "/dashboard/login",
        data={
            "token": hidden(login.text, "token"),
            "next": next_path,
            "username": "north.officer",
            "password": PASSWORD,
        },
    )
    assert response.headers["location"] == "/dashboard/"


def test_a_production_hash_made_by_create_staff_signs_in(
    client: TestClient, sessions: SessionFactory
) -> None:
    with sessions.begin() as s:
        admin.create_staff(
            s,
            username="real.hash",
            display_name="Real Hash",
            role=Role.SUPERVISOR,
            force_id="north",
            password=PASSWORD,
            now=datetime.now(UTC),
        )

    assert sign_in(client, "real.hash").status_code == 303
    assert sign_in(client, "real.hash", "not the password").status_code == 401


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("north.officer", "wrong password entirely"),
        ("no.such.user", PASSWORD),
        ("NORTH.OFFICER ", "wrong password entirely"),
    ],
)
def test_wrong_credentials_are_refused_alike_and_audited_without_the_password(
    client: TestClient, sessions: SessionFactory, username: str, password: str
) -> None:
    response = sign_in(client, username, password)

    assert response.status_code == 401
    assert "Username or password not recognised." in response.text
    assert "__Host-ik-session" not in client.cookies
    assert actions(sessions)[-1][1] == "staff.login_failed"
    with sessions() as s:
        stored = [str(d) for d in s.scalars(select(AuditEntry.details))]
    assert not any(password in text for text in stored)


def test_a_disabled_account_cannot_sign_in(client: TestClient, sessions: SessionFactory) -> None:
    with sessions.begin() as s:
        s.execute(
            update(StaffUser).where(StaffUser.username == "north.officer").values(disabled=True)
        )

    assert sign_in(client, "north.officer").status_code == 401


@pytest.mark.parametrize("username", ["north.officer", "nobody.here"])
def test_five_failures_lock_the_username_even_against_the_right_password(
    client: TestClient, sessions: SessionFactory, username: str
) -> None:
    for _ in range(5):
        assert sign_in(client, username, "wrong password entirely").status_code == 401

    locked = sign_in(client, username)

    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.text
    assert "__Host-ik-session" not in client.cookies
    assert "staff.locked_out" in [a for _, a in actions(sessions)]
    # Another username is not affected.
    assert sign_in(client, "north.supervisor").status_code == 303


def test_the_lockout_holds_in_another_server_process_on_the_same_database(
    client: TestClient, settings: Settings
) -> None:
    for _ in range(5):
        sign_in(client, "north.officer", "wrong password entirely")

    # A second application with its own engine and pool: only the database is shared.
    with TestClient(create_app(settings), base_url=BASE_URL, follow_redirects=False) as other:
        assert sign_in(other, "north.officer").status_code == 429


def test_the_lockout_ends_when_the_failures_leave_the_window(
    client: TestClient, sessions: SessionFactory, settings: Settings
) -> None:
    for _ in range(5):
        sign_in(client, "north.officer", "wrong password entirely")
    assert sign_in(client, "north.officer").status_code == 429

    aged = datetime.now(UTC) - settings.staff_login_window - timedelta(seconds=1)
    with sessions.begin() as s:
        s.execute(update(StaffLoginFailure).values(at=aged))

    assert sign_in(client, "north.officer").status_code == 303


def test_a_success_clears_earlier_failures(client: TestClient, sessions: SessionFactory) -> None:
    for _ in range(4):
        sign_in(client, "north.officer", "wrong password entirely")
    assert sign_in(client, "north.officer").status_code == 303
    with sessions() as s:
        assert s.scalars(select(StaffLoginFailure)).all() == []


def test_signing_out_ends_the_session_for_good(
    client: TestClient, sessions: SessionFactory
) -> None:
    csrf = signed_in(client, "north.officer")
    token = client.cookies["__Host-ik-session"]

    response = client.post("/dashboard/logout", data={"csrf_token": csrf})

    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/login?signed_out=1"
    # Replaying the old cookie gets nowhere.
    client.cookies.set("__Host-ik-session", token, domain="testserver")
    assert client.get("/dashboard/").status_code == 303
    assert ("north.officer", "staff.logout") in actions(sessions)


@pytest.mark.parametrize(
    ("column", "back"),
    [("last_seen_at", timedelta(minutes=30)), ("expires_at", timedelta(seconds=0))],
)
def test_an_idle_or_expired_session_asks_to_sign_in_again(
    client: TestClient, sessions: SessionFactory, column: str, back: timedelta
) -> None:
    signed_in(client, "north.officer")
    assert client.get("/dashboard/").status_code == 200

    with sessions.begin() as s:
        s.execute(update(StaffSession).values({column: datetime.now(UTC) - back}))
    response = client.get("/dashboard/")

    assert response.status_code == 303
    assert "expired=1" in response.headers["location"]
    assert "Your session ended" in client.get(response.headers["location"]).text
    with sessions() as s:
        assert s.scalar(select(StaffSession.ended_at)) is not None


def test_activity_within_the_idle_timeout_keeps_the_session(
    client: TestClient, sessions: SessionFactory
) -> None:
    signed_in(client, "north.officer")
    with sessions.begin() as s:
        s.execute(
            update(StaffSession).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=29))
        )

    assert client.get("/dashboard/").status_code == 200
    with sessions() as s:
        seen = s.scalar(select(StaffSession.last_seen_at))
    assert seen is not None
    assert datetime.now(UTC) - seen < timedelta(minutes=1)


@pytest.mark.parametrize(
    "csrf", [None, "", "0" * 64, "from-another-session"], ids=["missing", "empty", "wrong", "other"]
)
def test_a_form_without_this_sessions_token_is_refused(
    client: TestClient, app: FastAPI, csrf: str | None
) -> None:
    if csrf == "from-another-session":
        with TestClient(app, base_url=BASE_URL, follow_redirects=False) as other:
            csrf = signed_in(other, "north.supervisor")
    signed_in(client, "north.officer")

    response = client.post("/dashboard/logout", data={} if csrf is None else {"csrf_token": csrf})

    assert response.status_code == 403
    assert "security token is missing or out of date" in response.text
    assert client.get("/dashboard/").status_code == 200  # still signed in


def test_the_sign_in_form_itself_needs_its_token(client: TestClient) -> None:
    client.get("/dashboard/login")
    response = client.post(
        "/dashboard/login",
        data={"token": "forged", "username": "north.officer", "password": PASSWORD},
    )
    assert response.status_code == 403
    assert "__Host-ik-session" not in client.cookies


@pytest.mark.parametrize("path", ["/dashboard/login", "/dashboard/", "/dashboard/participants"])
def test_pages_carry_the_security_headers(client: TestClient, path: str) -> None:
    signed_in(client, "north.admin")
    response = client.get(path)

    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "unsafe-inline" not in csp
    assert "script-src" not in csp
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


def test_the_stylesheet_is_served_and_cacheable(client: TestClient) -> None:
    response = client.get("/dashboard/static/dashboard.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "no-store" not in response.headers.get("cache-control", "")
