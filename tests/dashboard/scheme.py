"""A scheme to browse: staff of every role, and participants whose kiosks pushed their work
through the real device protocol (so every timeline row was really ingested)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx2
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from sync_server import protocol
from sync_server.db import SessionFactory
from sync_server.models import Role, StaffUser
from tests.support.device import _PINS, TestDevice
from tests.support.journeys import finishing_events, whole_programme
from tests.support.world import PROGRAMME_ID, World

PASSWORD = "correct horse battery staple"
# Cheap argon2id parameters, recorded in the hash itself, so each sign-in is fast; one test
# signs in with an account made by the real `create_staff` to cover the production hash.
_CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
STAFF: dict[str, tuple[Role, str | None]] = {
    "north.officer": (Role.OFFICER, "north"),
    "north.supervisor": (Role.SUPERVISOR, "north"),
    "north.admin": (Role.ADMIN, "north"),
    "north.content": (Role.CONTENT, "north"),
    "south.officer": (Role.OFFICER, "south"),
    "scheme.admin": (Role.ADMIN, None),
}


def add_staff(sessions: SessionFactory) -> None:
    now = datetime.now(UTC)
    with sessions.begin() as s:
        for username, (role, force_id) in STAFF.items():
            s.add(
                StaffUser(
                    username=username,
                    display_name=username.replace(".", " ").title(),
                    force_id=force_id,
                    role=role,
                    password_hash=_CHEAP.hash(PASSWORD),
                    disabled=False,
                    failed_logins=0,
                    created_at=now,
                )
            )


@dataclass(frozen=True)
class Person:
    participant_id: str
    enrolment_id: str
    access_code: str
    first_name: str


@dataclass(frozen=True)
class Scheme:
    finished: Person  # north, whole programme done, assigned 4 days ago
    started: Person  # north, first module, a failed quiz attempt, a reflection
    late: Person  # north, due three days ago, nothing done
    soon: Person  # north (library), due in two days, nothing done
    southern: Person  # south, in progress
    north_kiosk: TestDevice
    south_kiosk: TestDevice


def register(
    device: TestDevice, *, first_name: str, due: date, assigned_at: datetime
) -> tuple[Person, list[protocol.SyncEvent]]:
    """The events a kiosk writes when an officer registers someone and assigns the sample."""
    participant_id, enrolment_id = str(uuid.uuid4()), str(uuid.uuid4())
    code = device.next_access_code()
    registered = device.event(
        "participant.registered",
        participant_id=participant_id,
        occurred_at=assigned_at,
        data={
            "first_name": first_name,
            "force_reference": f"REF/{code}",
            "access_code": code,
            "pin_hash": _PINS.hash("135790"),
            "language": "en",
            "accessibility": {},
        },
    )
    assigned = device.event(
        "enrolment.assigned",
        participant_id=participant_id,
        enrolment_id=enrolment_id,
        occurred_at=assigned_at,
        data={
            "programme_id": PROGRAMME_ID,
            "disposal_type": "conditional_caution",
            "conditions": "Complete the programme by the due date.",
            "due_date": due.isoformat(),
        },
    )
    return Person(participant_id, enrolment_id, code, first_name), [registered, assigned]


def work(
    device: TestDevice,
    person: Person,
    plan: list[tuple[str, tuple[str, dict[str, Any]]]],
    *,
    start: datetime,
) -> list[protocol.SyncEvent]:
    """Events doing `plan` one minute apart from `start`."""
    return [
        device.event(
            kind,
            participant_id=person.participant_id,
            enrolment_id=person.enrolment_id,
            step_id=step_id,
            data=data,
            occurred_at=start + timedelta(minutes=i + 1),
        )
        for i, (step_id, (kind, data)) in enumerate(plan)
    ]


def seed_scheme(http: TestClient | httpx2.Client, base_url: str, world: World) -> Scheme:
    north = TestDevice(http, base_url, name="North custody kiosk")
    north.enrol(world.code("north-custody"))
    library = TestDevice(http, base_url, name="North library kiosk")
    library.enrol(world.code("north-library"))
    south = TestDevice(http, base_url, name="South custody kiosk")
    south.enrol(world.code("south-custody"))
    now = datetime.now(UTC)
    today = date.today()
    four_days_ago = now - timedelta(days=4)
    two_hours_ago = now - timedelta(hours=2)
    finished, events = register(
        north, first_name="Alice", due=today + timedelta(days=20), assigned_at=four_days_ago
    )
    # Finished three days after assignment (plus a minute per step).
    done_from = four_days_ago + timedelta(days=3)
    events += work(north, finished, whole_programme(world.programme), start=done_from)
    started, more = register(
        north, first_name="Bobby", due=today + timedelta(days=25), assigned_at=two_hours_ago
    )
    events += more + work(north, started, _first_steps(world), start=now - timedelta(hours=1))
    late, more = register(north, first_name="Carol", due=today - timedelta(days=3), assigned_at=now)
    events += more
    north.push_ok(events)
    soon, more = register(
        library, first_name="Dylan", due=today + timedelta(days=2), assigned_at=now
    )
    library.push_ok(more)
    southern, more = register(
        south, first_name="Sienna", due=today + timedelta(days=10), assigned_at=two_hours_ago
    )
    more += work(south, southern, _first_steps(world)[:1], start=now - timedelta(hours=1))
    south.push_ok(more)
    return Scheme(finished, started, late, soon, southern, north, south)


def _first_steps(world: World) -> list[tuple[str, tuple[str, dict[str, Any]]]]:
    """The first module done, then a wrong answer to the next quiz and the next reflection."""
    first, *rest = world.programme.modules
    plan = [(s.id, p) for s in first.steps for p in finishing_events(s)]
    later = [step for module in rest for step in module.steps]
    quiz = next(step for step in later if step.type == "quiz")
    plan.append((quiz.id, ("quiz.answered", {"attempt": 1, "answers": {}})))
    reflection = next(step for step in later if step.type == "reflection")
    plan.extend((reflection.id, p) for p in finishing_events(reflection))
    return plan


# --- signing in through the test client ------------------------------------------------------

_HIDDEN = re.compile(r'name="(token|csrf_token)" value="([^"]+)"')


def hidden(html: str, name: str) -> str:
    for match in _HIDDEN.finditer(html):
        if match.group(1) == name:
            return match.group(2)
    raise AssertionError(f"no hidden {name} field in the page")


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> httpx2.Response:
    page = client.get("/dashboard/login")
    return client.post(
        "/dashboard/login",
        data={"token": hidden(page.text, "token"), "username": username, "password": password},
    )


def signed_in(client: TestClient, username: str) -> str:
    """Sign in as `username`; answers the session's CSRF token."""
    response = sign_in(client, username)
    assert response.status_code == 303, response.text
    return hidden(client.get("/dashboard/").text, "csrf_token")
