"""Completion records, exports, devices, content and staff pages in Debian's Chromium
(Playwright) against uvicorn on loopback: each role walks them, every form is used, a
tampered form is refused, and a certificate's file is checked before and after a flipped byte."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import httpx2
import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.scheme import STAFF, Scheme
from tests.dashboard.test_browser import SCREENSHOTS, heading, sign_in
from tests.dashboard.test_browser import browser as browser
from tests.dashboard.test_browser import database_backend as database_backend
from tests.dashboard.test_browser import page as page
from tests.dashboard.test_browser import seeded as seeded
from tests.dashboard.test_browser import server as server
from tests.dashboard.test_browser import settings as settings
from tests.dashboard.test_content_page import build
from tests.support.device import TestDevice
from tests.support.live_server import LiveServer
from tests.support.world import World

PART3 = {
    "Completion records": "Completion records",
    "Exports": "Exports",
    "Devices": "Devices",
    "Content": "Content",
    "Staff": "Staff",
}
ROLE_PAGES = {
    "officer": ["Completion records", "Devices"],
    "supervisor": ["Completion records", "Exports", "Devices"],
    "admin": ["Completion records", "Exports", "Devices", "Content", "Staff"],
    "content": ["Content"],
}


def pull_status(kiosk: TestDevice) -> int:
    """What the server answers the kiosk now (the seeding client is closed by then)."""
    with httpx2.Client(timeout=30) as http:
        return dataclasses.replace(kiosk, http=http).pull().status_code


def nav_labels(page: Page) -> list[str]:
    links = page.locator("header nav a")
    return [links.nth(i).inner_text() for i in range(links.count())]


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("username", list(STAFF))
def test_each_role_sees_and_opens_only_its_part3_pages(
    page: Page, server: LiveServer, username: str
) -> None:
    sign_in(page, server, username)
    role, _ = STAFF[username]
    mine = [label for label in nav_labels(page) if label in PART3]

    assert mine == ROLE_PAGES[role.value]
    for label in mine:
        page.locator("header nav").get_by_role("link", name=label).click()
        assert heading(page) == PART3[label]
        expect(page.locator("header nav a[aria-current=page]")).to_have_text(label)


def test_an_officer_issues_a_certificate_and_checks_its_file_and_code(
    page: Page, server: LiveServer, seeded: Scheme, tmp_path: Path
) -> None:
    sign_in(page, server, "north.officer")
    page.locator("header nav").get_by_role("link", name="Completion records").click()
    row = page.locator('table[data-testid="completed"] tbody tr', has_text="Alice")
    row.get_by_role("button", name="Issue certificate").click()
    assert heading(page).startswith("Certificate ")
    code = heading(page).removeprefix("Certificate ")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the certificate (PDF)").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == f"certificate-{code}.pdf"

    page.goto(f"{server.url}/dashboard/certificates")
    page.get_by_label("Or the certificate's PDF file").set_input_files(saved)
    page.get_by_role("button", name="Check file").click()
    expect(page.get_by_test_id("verdict")).to_have_text("Genuine")
    expect(page.get_by_test_id("signed-facts")).to_contain_text("Alice")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard-certificate-check.png"), full_page=True)

    data = saved.read_bytes()
    middle = len(data) // 2
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :])
    page.get_by_label("Or the certificate's PDF file").set_input_files(tampered)
    page.get_by_role("button", name="Check file").click()
    expect(page.get_by_test_id("verdict")).to_have_text("Not genuine")
    expect(page.get_by_test_id("verdict-message")).to_contain_text("has been altered")

    page.get_by_label("Verification code").fill(code.lower())
    page.get_by_role("button", name="Check code").click()
    expect(page.get_by_test_id("verdict")).to_have_text("Genuine")


def test_a_supervisor_downloads_each_export(page: Page, server: LiveServer, seeded: Scheme) -> None:
    sign_in(page, server, "north.supervisor")
    page.locator("header nav").get_by_role("link", name="Exports").click()

    for button, filename, starts in [
        ("Enrolments (CSV)", "enrolments.csv", b"\xef\xbb\xbfenrolment_id,"),
        ("Outcomes (CSV)", "outcomes.csv", b"\xef\xbb\xbfenrolment_id,"),
        ("xAPI statements (JSON)", "xapi-statements.json", b"["),
    ]:
        with page.expect_download() as download:
            page.get_by_role("button", name=button).click()
        assert download.value.suggested_filename == filename
        body = Path(download.value.path()).read_bytes()
        assert body.startswith(starts), button
        assert b"Sienna" not in body
        assert seeded.southern.enrolment_id.encode() not in body


def test_an_officer_issues_an_enrolment_code_and_revokes_a_device(
    page: Page, server: LiveServer, seeded: Scheme
) -> None:
    sign_in(page, server, "north.officer")
    page.locator("header nav").get_by_role("link", name="Devices").click()
    page.get_by_label("Enrol a kiosk or tablet at").select_option("north-library")
    page.get_by_role("button", name="Issue enrolment code").click()

    expect(page.get_by_test_id("enrolment-code")).to_have_text(
        re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")
    )
    qr = page.get_by_test_id("enrolment-qr")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 100")

    page.get_by_role("link", name="← Devices").click()
    row = page.locator('table[data-testid="devices"] tbody tr', has_text="North custody kiosk")
    row.get_by_role("link", name="Revoke…").click()
    assert heading(page) == "Revoke North custody kiosk?"
    page.get_by_role("button", name="Revoke this device").click()
    expect(page.get_by_role("status")).to_contain_text("North custody kiosk is revoked")
    assert pull_status(seeded.north_kiosk) == 401


def test_a_tampered_revoke_form_is_refused(page: Page, server: LiveServer, seeded: Scheme) -> None:
    sign_in(page, server, "north.officer")
    page.goto(f"{server.url}/dashboard/devices/{seeded.north_kiosk.device_id}/revoke")
    page.locator('main input[name="csrf_token"]').evaluate("e => { e.value = 'tampered'; }")

    page.get_by_role("button", name="Revoke this device").click()

    assert heading(page) == "Form refused"
    assert pull_status(seeded.north_kiosk) == 200


def test_content_staff_upload_a_pack_see_its_outline_and_retire_it(
    page: Page, server: LiveServer, seeded: Scheme, world: World, tmp_path: Path
) -> None:
    built = build(world, tmp_path, version=2)
    pack_file = tmp_path / "alcohol-and-you-2.pack"
    signature_file = tmp_path / "alcohol-and-you-2.pack.minisig"
    pack_file.write_bytes(built.pack)
    signature_file.write_bytes(built.signature)
    sign_in(page, server, "north.content")
    page.locator("header nav").get_by_role("link", name="Content").click()

    page.get_by_label("Built pack").set_input_files(pack_file)
    page.get_by_label("Its signature").set_input_files(signature_file)
    expect(page.get_by_label("North Constabulary")).to_be_checked()
    page.get_by_role("button", name="Upload and verify").click()

    assert heading(page) == "Alcohol and you version 2"
    expect(page.get_by_role("status")).to_contain_text("Published.")
    assert page.locator('table[data-testid="outline"] tbody tr').count() >= 5
    page.get_by_role("link", name="Retire this version…").click()
    page.get_by_role("button", name="Retire this version").click()
    expect(page.get_by_role("status")).to_contain_text("Retired")


def test_a_bad_signature_is_refused_in_the_browser(
    page: Page, server: LiveServer, seeded: Scheme, world: World, tmp_path: Path
) -> None:
    built = build(world, tmp_path, version=2)
    pack_file = tmp_path / "alcohol-and-you-2.pack"
    pack_file.write_bytes(built.pack)
    other = tmp_path / "other.minisig"
    other.write_bytes(world.pack_path.with_name(world.pack_path.name + ".minisig").read_bytes())
    sign_in(page, server, "north.content")
    page.goto(f"{server.url}/dashboard/content")

    page.get_by_label("Built pack").set_input_files(pack_file)
    page.get_by_label("Its signature").set_input_files(other)
    page.get_by_role("button", name="Upload and verify").click()

    expect(page.get_by_test_id("upload-error")).to_contain_text("Pack refused")
    assert page.locator('table[data-testid="releases"] tbody tr').count() == 1


def test_an_admin_creates_and_disables_an_account(
    page: Page, server: LiveServer, seeded: Scheme
) -> None:
    sign_in(page, server, "north.admin")
    page.locator("header nav").get_by_role("link", name="Staff").click()

    page.get_by_label("Username").fill("north.trainee")
    page.get_by_label("Name shown").fill("Trainee Officer")
    page.get_by_label("Role").select_option("officer")
    page.get_by_label("First password").fill("a long first password 42")
    page.get_by_label("The password again").fill("a long first password 42")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status")).to_have_text("The account north.trainee is active.")

    page.get_by_role("button", name="Disable north.trainee").click()
    expect(page.get_by_role("status")).to_have_text("The account north.trainee is disabled.")
    expect(page.get_by_role("button", name="Enable north.trainee")).to_be_visible()

    # A forgotten password: a new one, from the account's row.
    page.locator('summary[aria-label="New password for north.trainee"]').click()
    page.get_by_label("New password for north.trainee (at least").fill("another long password 7")
    page.get_by_label("New password for north.trainee, again").fill("another long password 7")
    page.get_by_role("button", name="Set the new password of north.trainee").click()
    expect(page.get_by_role("status")).to_contain_text(
        "north.trainee has a new password: give it to them in person."
    )
