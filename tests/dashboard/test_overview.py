"""The overview's figures, per force and for the whole scheme, and its medians."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from sync_server.dashboard.auth import Staff
from sync_server.dashboard.overview import overview
from sync_server.db import SessionFactory
from sync_server.models import DisposalType, Enrolment, EnrolmentStatus, Participant, Role
from tests.dashboard.pages import figure, table
from tests.dashboard.scheme import signed_in
from tests.support.world import World

NORTH = {
    "assigned": "2",
    "in_progress": "1",
    "completed": "1",
    "overdue": "1",
    "due_this_week": "1",
    "completion_rate": "50%",
    "median_days": "3.0",
}
SOUTH = {
    **dict.fromkeys(NORTH, "0"),
    "in_progress": "1",
    "completion_rate": "–",
    "median_days": "–",
}
SCHEME = {**NORTH, "in_progress": "2"}


@pytest.mark.usefixtures("scheme")
@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("north.officer", NORTH),
        ("north.content", NORTH),
        ("south.officer", SOUTH),
        ("scheme.admin", SCHEME),
    ],
)
def test_the_totals_count_only_the_users_force(
    client: TestClient, username: str, expected: dict[str, str]
) -> None:
    signed_in(client, username)
    page = client.get("/dashboard/").text

    assert {name: figure(page, name) for name in expected} == expected


@pytest.mark.usefixtures("scheme")
def test_figures_per_programme_and_site(client: TestClient, world: World) -> None:
    signed_in(client, "north.supervisor")
    page = client.get("/dashboard/").text

    assert table(page, "by-programme") == [
        [world.programme.title, "2", "1", "1", "1", "1", "50%", "3.0"]
    ]
    assert table(page, "by-site") == [
        ["North-Custody", "1", "1", "1", "1", "0", "50%", "3.0"],
        ["North-Library", "1", "0", "0", "0", "1", "–", "–"],
    ]
    assert 'data-testid="by-force"' not in page


@pytest.mark.usefixtures("scheme")
def test_scheme_admins_also_see_each_force(client: TestClient) -> None:
    signed_in(client, "scheme.admin")
    rows = table(client.get("/dashboard/").text, "by-force")

    assert [row[:6] for row in rows] == [
        ["North Constabulary", "2", "1", "1", "1", "1"],
        ["South Police", "0", "1", "0", "0", "0"],
    ]


@pytest.mark.parametrize(
    ("days", "median"), [([1, 2, 9], 2.0), ([1, 2, 3, 10], 2.5), ([4], 4.0), ([], None)]
)
def test_median_days_to_complete_is_the_middle_value(
    world: World, sessions: SessionFactory, days: list[int], median: float | None
) -> None:
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    with sessions.begin() as s:
        for i, n in enumerate(days):
            _completed(s, f"p{i}", start, start + timedelta(days=n))
        _completed(s, "open", start, None)
    staff = Staff(1, "t", "T", Role.ADMIN, "north", 1, "x")

    with sessions() as s:
        figures = overview(s, staff=staff, today=date(2026, 2, 1))

    expected = None if median is None else pytest.approx(median)
    assert figures.totals.completed == len(days)
    assert figures.totals.median_days == expected
    assert figures.by_programme[0].counts.median_days == expected


def _completed(s: Session, key: str, assigned: datetime, completed: datetime | None) -> None:
    ids = key.encode().hex().rjust(12, "0")
    s.add(
        Participant(
            id=f"00000000-0000-4000-8000-{ids}",
            force_id="north",
            site_id="north-custody",
            first_name="Test",
            force_reference=f"REF/{key}",
            access_code=key.upper()[:12],
            pin_must_change=True,
            failed_pin_attempts=0,
            language="en",
            accessibility={},
            created_at=assigned,
        )
    )
    s.flush()
    s.add(
        Enrolment(
            id=f"10000000-0000-4000-8000-{ids}",
            participant_id=f"00000000-0000-4000-8000-{ids}",
            force_id="north",
            site_id="north-custody",
            programme_id="alcohol-and-you",
            programme_version=1,
            disposal_type=DisposalType.COMMUNITY_RESOLUTION,
            conditions="",
            due_date=date(2026, 3, 1),
            status=EnrolmentStatus.COMPLETE if completed else EnrolmentStatus.IN_PROGRESS,
            progress_percent=100 if completed else 10,
            assigned_at=assigned,
            completed_at=completed,
        )
    )
