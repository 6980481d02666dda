"""The dashboard's Devices pages photographed for docs/officer-guide.md, in Debian's Chromium
(Playwright) against uvicorn on loopback: the list, a new enrolment code, and revoking a lost
kiosk, which the server then refuses. The seeded scheme's devices and demo names only.

Each run writes fresh PNGs to build/screenshots/; the guide's copies are in docs/screenshots/.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.dashboard.scheme import Scheme
from tests.dashboard.test_browser import SCREENSHOTS, heading, sign_in
from tests.dashboard.test_browser import browser as browser
from tests.dashboard.test_browser import database_backend as database_backend
from tests.dashboard.test_browser import page as page
from tests.dashboard.test_browser import seeded as seeded
from tests.dashboard.test_browser import server as server
from tests.dashboard.test_browser import settings as settings
from tests.dashboard.test_browser_part3 import pull_status
from tests.support.live_server import LiveServer

SHOTS = ("dashboard-devices", "dashboard-enrolment-code", "dashboard-revoke")


def test_screenshots_of_devices_an_enrolment_code_and_revoking_a_lost_kiosk(
    page: Page, server: LiveServer, seeded: Scheme
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name in SHOTS:
        (SCREENSHOTS / f"{name}.png").unlink(missing_ok=True)
    sign_in(page, server, "north.officer")
    page.locator("header nav").get_by_role("link", name="Devices").click()
    devices = page.locator('table[data-testid="devices"] tbody tr')
    expect(devices.filter(has_text="North custody kiosk")).to_contain_text("Active")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-devices.png"), full_page=True)

    page.get_by_label("Enrol a kiosk or tablet at").select_option("north-custody")
    page.get_by_role("button", name="Issue enrolment code").click()
    expect(page.get_by_test_id("enrolment-code")).to_have_text(
        re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")
    )
    page.screenshot(path=str(SCREENSHOTS / "dashboard-enrolment-code.png"), full_page=True)

    page.get_by_role("link", name="← Devices").click()
    devices.filter(has_text="North custody kiosk").get_by_role("link", name="Revoke…").click()
    assert heading(page) == "Revoke North custody kiosk?"
    expect(page.locator("main")).to_contain_text("Events it has not yet sent are lost.")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-revoke.png"), full_page=True)

    page.get_by_role("button", name="Revoke this device").click()
    expect(page.get_by_role("status")).to_contain_text("North custody kiosk is revoked")
    expect(devices.filter(has_text="North custody kiosk")).to_contain_text("Revoked")
    assert pull_status(seeded.north_kiosk) == 401  # refused: it wipes itself when it hears so

    for name in SHOTS:
        shot = SCREENSHOTS / f"{name}.png"
        assert shot.read_bytes().startswith(b"\x89PNG"), name
        assert shot.stat().st_size > 10_000, f"{name} is suspiciously small"
