"""The protocol over real HTTP: uvicorn on loopback, the kiosk's own `requests` signing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
import requests

from sync_server import protocol
from sync_server.db import SessionFactory
from sync_server.device_auth import DeviceAuth
from sync_server.settings import Settings
from tests.support.device import TestDevice
from tests.support.live_server import LiveServer
from tests.support.world import PROGRAMME_ID, World, make_world


@pytest.fixture
def world(settings: Settings, sessions: SessionFactory, tmp_path: Path) -> World:
    return make_world(settings, sessions, tmp_path)


@pytest.fixture
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=30) as client:
        yield client


def test_enrol_push_pull_and_download_over_loopback(
    live_server: LiveServer, world: World, http: httpx2.Client
) -> None:
    kiosk = TestDevice(http, live_server.url)
    kiosk.enrol(world.code())
    reg = kiosk.register(programme_id=PROGRAMME_ID)
    assert {r.status for r in kiosk.push_ok(reg.events)} == {"accepted"}
    changes = kiosk.pull_all()
    assert {c.kind for c in changes} >= {"participant", "enrolment", "catalogue", "settings"}
    [entry] = [protocol.change_data(c) for c in changes if c.kind == "catalogue"]
    assert isinstance(entry, protocol.CatalogueEntry)
    download = kiosk.send(kiosk.signed("GET", entry.url))
    assert download.status_code == 200
    assert len(download.content) == entry.size


def test_the_kiosks_requests_signing_is_accepted(
    live_server: LiveServer, world: World, http: httpx2.Client
) -> None:
    kiosk = TestDevice(http, live_server.url)
    enrolled = kiosk.enrol(world.code())
    reg = kiosk.register(programme_id=PROGRAMME_ID)
    with requests.Session() as session:
        session.auth = DeviceAuth(enrolled.key_id, kiosk.key)
        body = json.dumps({"events": [e.model_dump(mode="json") for e in reg.events]})
        pushed = session.post(
            f"{live_server.url}/api/v1/sync/push",
            data=body,
            headers={"content-type": "application/json"},
            allow_redirects=False,
            timeout=30,
        )
        assert pushed.status_code == 200, pushed.text
        results = protocol.PushResponse.model_validate_json(pushed.content).results
        assert {r.status for r in results} == {"accepted"}
        pulled = session.get(
            f"{live_server.url}/api/v1/sync/pull", allow_redirects=False, timeout=30
        )
        assert pulled.status_code == 200, pulled.text
        # The same prepared request sent twice is a replay.
        again = session.send(pulled.request, allow_redirects=False, timeout=30)
        assert again.status_code == 401
        assert again.json()["error"] == "nonce_reused"
