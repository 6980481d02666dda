"""The devices page: the force's devices with their sync state, enrolment codes as text and
QR code that really enrol a kiosk, and revocation after a confirmation."""

from __future__ import annotations

import re
import urllib.parse

import pytest
import segno
from fastapi.testclient import TestClient
from sqlalchemy import select

from sync_server.db import SessionFactory
from sync_server.models import AuditEntry
from tests.dashboard.conftest import BASE_URL
from tests.dashboard.pages import table
from tests.dashboard.scheme import Scheme, signed_in
from tests.support.device import TestDevice


def devices(client: TestClient) -> dict[str, list[str]]:
    page = client.get("/dashboard/devices")
    assert page.status_code == 200, page.text
    return {row[0]: row for row in table(page.text, "devices") if len(row) > 1}


def issue_code(client: TestClient, csrf: str, site: str) -> str:
    page = client.post("/dashboard/devices/codes", data={"csrf_token": csrf, "site": site})
    assert page.status_code == 200, page.text
    match = re.search(r'data-testid="enrolment-code">([0-9A-Z-]+)<', page.text)
    assert match is not None
    return match.group(1)


def test_the_list_shows_the_forces_devices_and_their_sync(
    client: TestClient, scheme: Scheme
) -> None:
    signed_in(client, "north.officer")
    listed = devices(client)

    assert set(listed) == {"North custody kiosk", "North library kiosk"}
    custody = listed["North custody kiosk"]
    assert custody[1] == "North-Custody"
    assert custody[2] == "0.1.0"
    assert custody[4] != "never"
    assert custody[5] == str(scheme.north_kiosk.seq)
    assert int(custody[6]) > 0
    assert custody[7].startswith("Active")


def test_changes_waiting_fall_to_nothing_once_the_device_has_pulled(
    client: TestClient, scheme: Scheme
) -> None:
    signed_in(client, "north.officer")
    kiosk = scheme.north_kiosk
    first = kiosk.pull()
    cursor = first.json()["next_cursor"]

    before = devices(client)["North custody kiosk"][6]
    assert kiosk.pull(cursor).status_code == 200  # acknowledges everything up to the cursor
    after = devices(client)["North custody kiosk"][6]

    assert int(before) > 0
    assert after == "0"


def test_an_enrolment_code_is_shown_as_text_and_qr_and_enrols_a_kiosk(
    client: TestClient, scheme: Scheme, sessions: SessionFactory
) -> None:
    csrf = signed_in(client, "north.officer")
    page = client.post(
        "/dashboard/devices/codes", data={"csrf_token": csrf, "site": "north-library"}
    )

    code = re.search(r'data-testid="enrolment-code">([0-9A-Z-]+)<', page.text)
    image = re.search(r'<img src="([^"]+)"[^>]*data-testid="enrolment-qr"', page.text)
    assert code is not None
    assert image is not None
    src = image.group(1).replace("&#39;", "'").replace("&amp;", "&").replace("&#34;", '"')
    assert src.startswith("data:image/svg+xml")
    svg = urllib.parse.unquote(src.split(",", 1)[1])
    assert svg == urllib.parse.unquote(
        segno.make(code.group(1), error="m").svg_data_uri(scale=8, border=2).split(",", 1)[1]
    )
    assert "<svg" not in page.text  # an <img> with a data: URI, which the CSP allows
    assert page.headers["cache-control"] == "no-store"

    kiosk = TestDevice(client, BASE_URL, name="New library tablet")
    enrolled = kiosk.enrol(code.group(1))

    assert enrolled.site.id == "north-library"
    assert "New library tablet" in devices(client)
    with sessions() as s:
        issued = s.scalars(
            select(AuditEntry.subject).where(AuditEntry.action == "enrolment_code.issued")
        ).all()
    assert issued[-1] == "site:north-library"
    assert code.group(1) not in str(issued)


@pytest.mark.parametrize("site", ["south-custody", "nowhere"])
def test_no_code_for_a_site_outside_the_force(
    client: TestClient, scheme: Scheme, site: str
) -> None:
    csrf = signed_in(client, "north.officer")
    page = client.post("/dashboard/devices/codes", data={"csrf_token": csrf, "site": site})

    assert page.status_code == 400
    assert "Choose one of your force&#39;s sites." in page.text
    assert 'data-testid="enrolment-code"' not in page.text


def test_revoking_asks_first_and_then_the_device_is_refused_and_told_to_wipe(
    client: TestClient, scheme: Scheme, sessions: SessionFactory
) -> None:
    csrf = signed_in(client, "north.officer")
    kiosk = scheme.north_kiosk
    confirm = client.get(f"/dashboard/devices/{kiosk.device_id}/revoke")
    assert confirm.status_code == 200
    assert "Revoke North custody kiosk?" in confirm.text

    done = client.post(f"/dashboard/devices/{kiosk.device_id}/revoke", data={"csrf_token": csrf})

    assert done.status_code == 303
    listed = client.get(done.headers["location"])
    assert "North custody kiosk is revoked" in listed.text
    assert "by north.officer" in devices(client)["North custody kiosk"][7]
    answer = kiosk.pull()
    assert answer.status_code == 401
    assert answer.json()["error"] == "device_revoked"
    assert answer.json()["wipe"] is True
    with sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "device.revoked")).one()
    assert (entry.actor, entry.subject, entry.force_id) == (
        "north.officer",
        f"device:{kiosk.device_id}",
        "north",
    )


def test_revoking_needs_the_forms_token(client: TestClient, scheme: Scheme) -> None:
    signed_in(client, "north.officer")
    kiosk = scheme.north_kiosk

    refused = client.post(f"/dashboard/devices/{kiosk.device_id}/revoke", data={"csrf_token": "x"})

    assert refused.status_code == 403
    assert kiosk.pull().status_code == 200


def test_another_forces_device_can_be_neither_seen_nor_revoked(
    client: TestClient, scheme: Scheme
) -> None:
    csrf = signed_in(client, "north.officer")
    south = scheme.south_kiosk

    assert client.get(f"/dashboard/devices/{south.device_id}/revoke").status_code == 404
    refused = client.post(f"/dashboard/devices/{south.device_id}/revoke", data={"csrf_token": csrf})

    assert refused.status_code == 404
    assert south.pull().status_code == 200
    assert "South custody kiosk" not in client.get("/dashboard/devices").text


def test_the_revocation_notice_names_only_a_revoked_device(
    client: TestClient, scheme: Scheme
) -> None:
    signed_in(client, "north.officer")
    page = client.get("/dashboard/devices", params={"revoked": scheme.north_kiosk.device_id})
    assert "is revoked" not in page.text


def test_a_scheme_admin_sees_every_forces_devices(client: TestClient, scheme: Scheme) -> None:
    signed_in(client, "scheme.admin")
    assert set(devices(client)) == {
        "North custody kiosk",
        "North library kiosk",
        "South custody kiosk",
    }


def test_content_staff_have_no_devices_page(client: TestClient, scheme: Scheme) -> None:
    signed_in(client, "north.content")
    assert client.get("/dashboard/devices").status_code == 403
