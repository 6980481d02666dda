"""The dashboard in Debian's Chromium (Playwright) against uvicorn on loopback: every role
signs in and walks its pages, a filter form is submitted, a tampered form is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Response,
    expect,
    sync_playwright,
)

from sync_server.settings import Settings
from tests.dashboard.rasterise import first_page_png, ink
from tests.dashboard.scheme import PASSWORD, STAFF, Scheme, seed_scheme
from tests.support.databases import Backend
from tests.support.live_server import LiveServer
from tests.support.world import World

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
ACCENT = "rgb(29, 79, 145)"


@pytest.fixture
def database_backend() -> Backend:
    """The browser walks run on SQLite only; every page's queries run on both databases in
    the HTTP-level tests beside this file."""
    return "sqlite"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """A plain-HTTP development server: loopback carries no TLS, so cookies are not Secure."""
    return Settings(
        database_url=database_url, data_dir=tmp_path / "data", dashboard_secure_cookies=False
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `make deps` (Debian package `chromium`)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


@pytest.fixture
def server(app: FastAPI) -> Iterator[LiveServer]:
    with LiveServer(app) as live:
        yield live


@pytest.fixture
def seeded(server: LiveServer, world: World) -> Scheme:
    with httpx2.Client(timeout=30) as http:
        return seed_scheme(http, server.url, world)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        # A refused page (403, 404) logs its own status; every subresource is checked below.
        if message.type in ("error", "warning") and "Failed to load resource" not in message.text:
            problems.append(message.text)

    def response(answer: Response) -> None:
        if answer.request.resource_type != "document" and answer.status >= 400:
            problems.append(f"{answer.status} for {answer.url}")

    page.on("console", console)
    page.on("response", response)
    yield page
    context.close()
    # A CSP violation or a missing stylesheet or image shows up here.
    assert problems == []


def sign_in(page: Page, server: LiveServer, username: str) -> None:
    page.goto(f"{server.url}/dashboard/")
    assert page.url.startswith(f"{server.url}/dashboard/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/dashboard/")


def heading(page: Page) -> str:
    return page.locator("h1").inner_text()


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("username", list(STAFF))
def test_each_role_signs_in_walks_its_pages_and_signs_out(
    page: Page, server: LiveServer, username: str
) -> None:
    sign_in(page, server, username)
    assert heading(page) == "Overview"
    assert page.locator("header.top").evaluate("e => getComputedStyle(e).backgroundColor") == ACCENT
    links = page.locator("header nav a")
    labels = [links.nth(i).inner_text() for i in range(links.count())]
    role, _ = STAFF[username]
    casework = ["Overview", "Participants", "Review queue", "Deadlines", "Outcomes", "Evaluation"]
    expected = {
        "officer": [*casework, "Completion records", "Devices"],
        "supervisor": [*casework, "Completion records", "Exports", "Devices"],
        "admin": [*casework, "Completion records", "Exports", "Devices", "Content", "Staff"]
        + ["Audit log"],
        "content": ["Overview", "Evaluation", "Content"],
    }[role.value]
    assert labels == expected

    for label in labels:
        page.locator("header nav").get_by_role("link", name=label).click()
        assert heading(page) == label
        if label == "Participants":
            rows = page.locator('table[data-testid="participants"] tbody tr')
            assert rows.count() >= 1
            rows.first.locator("a").click()
            assert page.locator('table[data-testid="timeline"] tbody tr').count() >= 2
            expect(page.get_by_text("This view is recorded in the audit log.")).to_be_visible()
        if label == "Audit log":
            page.get_by_label("Who (username)").fill(username)
            page.get_by_role("button", name="Search").click()
            assert "staff.login" in page.locator('table[data-testid="audit"]').inner_text()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto(f"{server.url}/dashboard/participants")
    expect(page.locator("h1")).to_have_text("Sign in")


@pytest.mark.usefixtures("seeded")
def test_the_filter_form_narrows_the_list(page: Page, server: LiveServer) -> None:
    sign_in(page, server, "north.officer")
    page.goto(f"{server.url}/dashboard/participants")

    page.get_by_label("Status").select_option("overdue")
    page.get_by_role("button", name="Search").click()

    assert "status=overdue" in page.url
    rows = page.locator('table[data-testid="participants"] tbody tr')
    assert rows.count() == 1
    assert "Carol" in rows.first.inner_text()
    assert page.get_by_label("Status").input_value() == "overdue"


@pytest.mark.usefixtures("seeded")
def test_a_tampered_csrf_token_is_refused(page: Page, server: LiveServer) -> None:
    sign_in(page, server, "north.supervisor")
    page.locator('input[name="csrf_token"]').evaluate("e => { e.value = 'tampered'; }")

    with page.expect_response(f"{server.url}/dashboard/logout") as answer:
        page.get_by_role("button", name="Sign out").click()

    assert answer.value.status == 403
    assert heading(page) == "Form refused"
    page.goto(f"{server.url}/dashboard/")
    assert heading(page) == "Overview"  # the refused sign-out changed nothing


def test_another_forces_record_stays_hidden_in_the_browser(
    page: Page, server: LiveServer, seeded: Scheme
) -> None:
    sign_in(page, server, "north.officer")

    page.goto(f"{server.url}/dashboard/participants/{seeded.southern.participant_id}")
    assert heading(page) == "Not found"
    page.goto(f"{server.url}/dashboard/participants?q=Sienna")
    assert page.locator('[data-testid="result-count"]').inner_text() == "0 matches."


def test_screenshots_of_the_overview_a_participant_and_a_certificate(
    page: Page, server: LiveServer, seeded: Scheme, tmp_path: Path
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, server, "north.supervisor")
    overview = SCREENSHOTS / "dashboard-overview.png"
    page.screenshot(path=str(overview), full_page=True)

    page.goto(f"{server.url}/dashboard/participants/{seeded.finished.participant_id}")
    assert page.locator('[data-testid="writing"]').count() >= 2
    record = SCREENSHOTS / "dashboard-participant.png"
    page.screenshot(path=str(record), full_page=True)

    for shot in (overview, record):
        assert shot.read_bytes().startswith(b"\x89PNG")
        assert shot.stat().st_size > 20_000

    # The certificate itself: the PDF the server issues, as a participant is handed it.
    name = seeded.finished.first_name
    page.goto(f"{server.url}/dashboard/certificates")
    row = page.locator('table[data-testid="completed"] tbody tr', has_text=name)
    row.get_by_role("button", name="Issue certificate").click()
    code = heading(page).removeprefix("Certificate ")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the certificate (PDF)").click()
    document = tmp_path / "certificate.pdf"
    download.value.save_as(document)
    certificate = SCREENSHOTS / "dashboard-certificate.png"

    text = first_page_png(document.read_bytes(), certificate)

    assert name in text
    assert code in text
    assert certificate.read_bytes().startswith(b"\x89PNG")
    # Not blank paper: the border, the wording and the QR code put ink on the page.
    assert ink(certificate) > 0.02
