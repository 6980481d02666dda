"""Officer credentials reach the force's kiosks through the pull, and leave them when disabled."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from argon2 import PasswordHasher
from sqlalchemy import select

from kiosk_app.core.officer_auth import OfficerLoginService, OfficerOutcome
from kiosk_app.store.models import Officer
from kiosk_app.sync.engine import Outcome
from sync_server import models
from sync_server.services import admin
from tests.support.live_server import LiveServer
from tests.support.world import World
from tests.sync.kiosks import Kiosk

PASSWORD = "correct horse battery"


def _staff(world: World, username: str, role: models.Role, force_id: str | None) -> None:
    world.add_staff(username, password=PASSWORD, role=role, force_id=force_id)


def _officers(kiosk: Kiosk) -> dict[str, Officer]:
    with kiosk.store.unit() as s:
        rows = s.scalars(select(Officer)).all()
        s.expunge_all()
        return {row.username: row for row in rows}


def test_first_pull_brings_the_forces_console_staff_and_nothing_else(
    server: LiveServer, world: World, make_kiosk: Callable[..., Kiosk]
) -> None:
    _staff(world, "olive", models.Role.OFFICER, "north")
    _staff(world, "sam", models.Role.SUPERVISOR, "north")
    _staff(world, "carla", models.Role.CONTENT, "north")  # no console
    _staff(world, "sid", models.Role.OFFICER, "south")  # another force
    _staff(world, "root", models.Role.ADMIN, None)  # scheme-wide: never on a kiosk
    kiosk = make_kiosk()
    enrolled = kiosk.enrol(server.url, world.code("north-custody"))
    assert enrolled.first_sync.outcome is Outcome.SYNCED, enrolled.first_sync.error

    officers = _officers(kiosk)
    assert set(officers) == {"olive", "sam"}
    assert (officers["olive"].display_name, officers["olive"].role) == ("Olive", "officer")
    with world.sessions() as s:
        stored = admin.staff_by_username(s, "olive").password_hash
    assert officers["olive"].password_hash == stored
    assert PasswordHasher().verify(officers["olive"].password_hash, PASSWORD)
    login = OfficerLoginService(store=kiosk.store, clock=kiosk.clock)
    assert login.attempt(username="olive", password=PASSWORD).outcome is OfficerOutcome.SIGNED_IN


def test_a_new_account_arrives_and_a_disabled_one_is_removed(
    server: LiveServer, world: World, make_kiosk: Callable[..., Kiosk]
) -> None:
    _staff(world, "olive", models.Role.OFFICER, "north")
    kiosk = make_kiosk()
    kiosk.enrol(server.url, world.code("north-custody"))
    _staff(world, "owen", models.Role.OFFICER, "north")
    with world.sessions.begin() as s:
        user = admin.staff_by_username(s, "olive")
        user.disabled = True
        admin.staff_changed(s, user, now=datetime.now(UTC))

    assert kiosk.engine.run_once().outcome is Outcome.SYNCED
    assert set(_officers(kiosk)) == {"owen"}
