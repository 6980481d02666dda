"""Administration services: forces, sites and staff, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from sync_server.db import SessionFactory
from sync_server.models import AuditEntry, Force, Role, Site, StaffUser
from sync_server.services import admin

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
PASSWORD = "correct horse battery"


@pytest.fixture
def force(sessions: SessionFactory) -> str:
    with sessions.begin() as s:
        admin.create_force(s, force_id="north", name="Northshire Police", now=NOW)
        admin.create_force(s, force_id="south", name="Southshire Constabulary", now=NOW)
        admin.create_site(s, site_id="north-central", force_id="north", name="Central", now=NOW)
    return "north"


def _actions(sessions: SessionFactory) -> list[tuple[str, str | None, str | None]]:
    with sessions() as s:
        rows = s.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(r.action, r.subject, r.force_id) for r in rows]


def test_create_force_stores_it_and_audits(sessions: SessionFactory) -> None:
    with sessions.begin() as s:
        admin.create_force(s, force_id="west", name="  Westshire Police ", now=NOW)
    with sessions() as s:
        force = s.get(Force, "west")
        assert force is not None
        assert (force.name, force.created_at) == ("Westshire Police", NOW)
    assert _actions(sessions) == [("force.created", "west", "west")]


@pytest.mark.parametrize(
    "bad_id", ["", "a", "North", "-north", "north_east", "n" * 41, "north east", "nörth"]
)
def test_invalid_ids_are_refused(sessions: SessionFactory, bad_id: str) -> None:
    with sessions.begin() as s, pytest.raises(admin.AdminError, match="invalid force id"):
        admin.create_force(s, force_id=bad_id, name="X", now=NOW)


@pytest.mark.parametrize("good_id", ["nw", "north-west-2", "1st", "n" * 40])
def test_valid_ids_are_accepted(sessions: SessionFactory, good_id: str) -> None:
    with sessions.begin() as s:
        admin.create_force(s, force_id=good_id, name="X", now=NOW)


def test_duplicate_force_is_refused(sessions: SessionFactory, force: str) -> None:
    with sessions.begin() as s, pytest.raises(admin.AdminError, match="already exists"):
        admin.create_force(s, force_id=force, name="Again", now=NOW)


def test_empty_name_is_refused(sessions: SessionFactory) -> None:
    with sessions.begin() as s, pytest.raises(admin.AdminError, match="name must not be empty"):
        admin.create_force(s, force_id="west", name="   ", now=NOW)


def test_create_site_belongs_to_its_force(sessions: SessionFactory, force: str) -> None:
    with sessions.begin() as s:
        admin.create_site(s, site_id="north-library", force_id=force, name="Library", now=NOW)
    with sessions() as s:
        site = s.get(Site, "north-library")
        assert site is not None
        assert site.force_id == force
    assert ("site.created", "north-library", force) in _actions(sessions)


@pytest.mark.parametrize(
    ("site_id", "force_id", "message"),
    [
        ("west-1", "west", "unknown force 'west'"),
        ("north-central", "north", "site 'north-central' already exists"),
        ("north-central", "south", "belongs to another force"),
        ("Bad Site", "north", "invalid site id"),
    ],
)
def test_create_site_refusals(
    sessions: SessionFactory, force: str, site_id: str, force_id: str, message: str
) -> None:
    with sessions.begin() as s, pytest.raises(admin.AdminError, match=message):
        admin.create_site(s, site_id=site_id, force_id=force_id, name="Site", now=NOW)


def test_site_of_force_refuses_another_forces_site(sessions: SessionFactory, force: str) -> None:
    with sessions() as s:
        assert admin.site_of_force(s, site_id="north-central", force_id=force).id == "north-central"
        with pytest.raises(admin.AdminError, match="belongs to another force"):
            admin.site_of_force(s, site_id="north-central", force_id="south")


def test_create_staff_hashes_the_password_with_argon2id(
    sessions: SessionFactory, force: str
) -> None:
    with sessions.begin() as s:
        admin.create_staff(
            s,
            username="pc.smith",
            display_name="PC Smith",
            role=Role.OFFICER,
            force_id=force,
            password=PASSWORD,
            now=NOW,
        )
    with sessions() as s:
        user = s.scalar(select(StaffUser).where(StaffUser.username == "pc.smith"))
        assert user is not None
        assert (user.role, user.force_id, user.disabled) == (Role.OFFICER, force, False)
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert PasswordHasher().verify(user.password_hash, PASSWORD)
    entries = [a for a in _actions(sessions) if a[0] == "staff.created"]
    assert entries == [("staff.created", "pc.smith", force)]


def test_admin_may_have_no_force(sessions: SessionFactory) -> None:
    with sessions.begin() as s:
        user = admin.create_staff(
            s,
            username="root-admin",
            display_name="Scheme admin",
            role=Role.ADMIN,
            force_id=None,
            password=PASSWORD,
            now=NOW,
        )
        assert user.force_id is None


@pytest.mark.parametrize(
    ("username", "role", "force_id", "password", "message"),
    [
        ("pc.jones", Role.OFFICER, None, PASSWORD, "needs a force"),
        ("pc.jones", Role.SUPERVISOR, "west", PASSWORD, "unknown force 'west'"),
        ("pc.jones", Role.OFFICER, "north", "short pass11", None),
        ("pc.jones", Role.OFFICER, "north", "eleven char", "at least 12 characters"),
        ("PC Jones", Role.OFFICER, "north", PASSWORD, "invalid username"),
        ("pc.existing", Role.OFFICER, "north", PASSWORD, "already exists"),
    ],
)
def test_create_staff_rules(
    sessions: SessionFactory,
    force: str,
    username: str,
    role: Role,
    force_id: str | None,
    password: str,
    message: str | None,
) -> None:
    with sessions.begin() as s:
        admin.create_staff(
            s,
            username="pc.existing",
            display_name="Existing",
            role=Role.OFFICER,
            force_id=force,
            password=PASSWORD,
            now=NOW,
        )

    def attempt() -> None:
        with sessions.begin() as s:
            admin.create_staff(
                s,
                username=username,
                display_name="PC Jones",
                role=role,
                force_id=force_id,
                password=password,
                now=NOW,
            )

    if message is None:
        attempt()
    else:
        with pytest.raises(admin.AdminError, match=message):
            attempt()


def test_refused_change_writes_no_audit_entry(sessions: SessionFactory, force: str) -> None:
    before = _actions(sessions)
    with pytest.raises(admin.AdminError), sessions.begin() as s:
        admin.create_force(s, force_id=force, name="Again", now=NOW)
    assert _actions(sessions) == before
