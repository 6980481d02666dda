"""The review queue, deadlines, outcomes and evaluation in Debian's Chromium (Playwright)
against uvicorn on loopback: every form is filled and sent as a person would, the charts draw
under the strict CSP, and the downloaded CSV holds the figures on the page."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.scheme import Person, Scheme, register
from tests.dashboard.test_browser import browser as browser
from tests.dashboard.test_browser import database_backend as database_backend
from tests.dashboard.test_browser import heading, sign_in
from tests.dashboard.test_browser import page as page
from tests.dashboard.test_browser import seeded as seeded
from tests.dashboard.test_browser import server as server
from tests.dashboard.test_browser import settings as settings
from tests.support.device import TestDevice
from tests.support.live_server import LiveServer
from tests.support.world import World

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


@pytest.fixture
def old_disposal(server: LiveServer, world: World, seeded: Scheme) -> Iterator[Person]:
    """Olive: a north disposal 400 days old, pushed by a second north kiosk."""
    with httpx2.Client(timeout=30) as http:
        kiosk = TestDevice(http, server.url, name="North spare kiosk")
        kiosk.enrol(world.code("north-custody"))
        assigned = datetime.now(UTC) - timedelta(days=400)
        olive, events = register(
            kiosk,
            first_name="Olive",
            due=(assigned + timedelta(days=28)).date(),
            assigned_at=assigned,
        )
        kiosk.push_ok(events)
        yield olive


def rows(page: Page, testid: str) -> list[list[str]]:
    found = []
    body = page.locator(f'table[data-testid="{testid}"] tbody tr')
    for i in range(body.count()):
        cells = body.nth(i).locator("th, td")
        found.append([" ".join(cells.nth(j).inner_text().split()) for j in range(cells.count())])
    return found


def test_an_officer_returns_a_reflection_and_accepts_a_letter(
    page: Page, server: LiveServer, seeded: Scheme
) -> None:
    sign_in(page, server, "north.officer")
    page.locator("header nav").get_by_role("link", name="Review queue").click()
    assert heading(page) == "Review queue"
    queue = page.locator('table[data-testid="review-queue"] tbody tr')
    expect(queue).to_have_count(2)

    queue.first.get_by_role("link", name="Review", exact=True).click()
    assert heading(page) == "Reflection: What happened"
    expect(page.get_by_test_id("submission")).to_contain_text("In my own words")
    page.get_by_role("button", name="Return for changes").click()
    expect(page.get_by_role("alert")).to_contain_text("Write a comment saying what to change")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard-review.png"), full_page=True)
    page.get_by_label("Comment for the participant").fill("Tell me more about the evening.")
    page.get_by_role("button", name="Return for changes").click()
    page.wait_for_url(f"{server.url}/dashboard/review?decided=returned")
    expect(page.get_by_role("status")).to_contain_text("Returned with your comment.")
    expect(queue).to_have_count(1)

    queue.first.get_by_role("link", name="Review", exact=True).click()
    assert heading(page) == "Letter: Your letter"
    page.get_by_role("button", name="Accept").click()
    page.wait_for_url(f"{server.url}/dashboard/review?decided=accepted")
    expect(page.locator('table[data-testid="review-queue"]')).to_contain_text(
        "Nothing is waiting for review."
    )


@pytest.mark.usefixtures("seeded")
def test_an_officer_extends_an_overdue_deadline(page: Page, server: LiveServer) -> None:
    new_due = date.today() + timedelta(days=14)
    sign_in(page, server, "north.supervisor")
    page.locator("header nav").get_by_role("link", name="Deadlines").click()
    assert heading(page) == "Deadlines"
    overdue = page.locator('table[data-testid="overdue"] tbody tr')
    expect(overdue).to_have_count(1)
    expect(overdue.first).to_contain_text("Carol")

    overdue.first.get_by_role("link", name="Record outcome").click()
    assert heading(page) == "Outcomes: Carol"
    page.get_by_label("Extended").check()
    page.get_by_label("New due date").fill(new_due.isoformat())
    page.get_by_label("Reason").fill("Caring for a relative in hospital.")
    page.get_by_role("button", name="Record outcome").click()

    expect(page.get_by_role("status")).to_have_text("The outcome is recorded.")
    assert rows(page, "actions")[0][:2] == ["Extended", "Caring for a relative in hospital."]
    expect(page.get_by_test_id("due-date")).to_have_text(f"{new_due:%d %b %Y}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard-outcomes.png"), full_page=True)
    page.get_by_role("link", name="← Deadlines").click()
    expect(page.locator('table[data-testid="overdue"]')).to_contain_text("No enrolment is overdue.")


def test_a_reoffending_check_is_recorded(
    page: Page, server: LiveServer, old_disposal: Person
) -> None:
    sign_in(page, server, "north.officer")
    page.locator("header nav").get_by_role("link", name="Outcomes").click()
    assert heading(page) == "Outcomes"
    assert [r[0] for r in rows(page, "checks")] == ["Olive"]

    page.get_by_role("link", name="Record", exact=True).click()
    page.get_by_label("Within").select_option("12")
    page.get_by_label("Reoffended?").select_option("no")
    page.get_by_role("button", name="Record check").click()

    expect(page.get_by_role("status")).to_have_text("The reoffending check is recorded.")
    assert [r[1] for r in rows(page, "reoffending")] == [
        "No reoffending (follows from another window)",
        "No reoffending (follows from another window)",
        "No reoffending",
    ]
    page.goto(f"{server.url}/dashboard/outcomes")
    expect(page.get_by_test_id("result-count")).to_have_text("0 enrolments.")


@pytest.mark.usefixtures("seeded")
def test_content_staff_read_the_evaluation_and_download_its_figures(
    page: Page, server: LiveServer, tmp_path: Path
) -> None:
    sign_in(page, server, "north.content")
    nav = page.locator("header nav")
    expect(nav.get_by_role("link", name="Review queue")).to_have_count(0)
    nav.get_by_role("link", name="Evaluation").click()
    assert heading(page) == "Evaluation"

    for chart in ("completion-month", "completion-programme", "reoffending-programme"):
        svg = page.get_by_test_id(f"chart-{chart}")
        expect(svg).to_be_visible()
        assert svg.bounding_box() is not None
    bar = page.locator('[data-testid="chart-completion-programme"] rect.bar')
    expect(bar).to_have_count(1)
    # Drawn from presentation attributes alone: the CSP blocks every inline style.
    assert bar.evaluate("e => getComputedStyle(e).fill") == "rgb(0, 112, 60)"
    on_page = rows(page, "by-programme")

    with page.expect_download() as download:
        page.get_by_test_id("csv-programme").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)

    with saved.open(newline="", encoding="utf-8") as f:
        assert list(csv.reader(f))[1:] == on_page
    assert saved.name.startswith("evaluation-by-programme-north-")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "dashboard-evaluation.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")
