"""Every forged, replayed, stale or oversized device request is refused, and writes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sync_server import models, protocol
from sync_server.db import SessionFactory
from sync_server.settings import Settings
from tests.support.device import TestDevice
from tests.support.world import PROGRAMME_ID, World, make_world


@pytest.fixture
def world(settings: Settings, sessions: SessionFactory, tmp_path: Path) -> World:
    return make_world(settings, sessions, tmp_path)


@pytest.fixture
def kiosk(client: TestClient, world: World) -> TestDevice:
    device = TestDevice(client, "http://testserver")
    device.enrol(world.code())
    return device


def stored_rows(sessions: SessionFactory) -> tuple[int, ...]:
    with sessions() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(table)) or 0
            for table in (models.Event, models.Participant, models.Change, models.Nonce)
        )


def push_body(kiosk: TestDevice) -> bytes:
    reg = kiosk.register(programme_id=PROGRAMME_ID)
    return json.dumps({"events": [e.model_dump(mode="json") for e in reg.events]}).encode()


def assert_refused(response: httpx2.Response, status: int, reason: str) -> None:
    assert response.status_code == status, response.text
    body = protocol.ErrorBody.model_validate_json(response.content)
    assert body.error == reason


def test_a_replayed_request_is_refused(kiosk: TestDevice, world: World) -> None:
    request = kiosk.signed("POST", "/api/v1/sync/push", body=push_body(kiosk))
    assert kiosk.send(request).status_code == 200
    before = stored_rows(world.sessions)
    assert_refused(kiosk.send(request), 401, "nonce_reused")
    assert stored_rows(world.sessions) == before


def test_a_tampered_body_is_refused(kiosk: TestDevice, world: World) -> None:
    body = push_body(kiosk)
    request = kiosk.signed("POST", "/api/v1/sync/push", body=body)
    forged = kiosk.http.build_request(
        "POST", str(request.url), content=body.replace(b"Sam", b"Bob"), headers=request.headers
    )
    before = stored_rows(world.sessions)
    assert_refused(kiosk.send(forged), 401, "digest_mismatch")
    assert stored_rows(world.sessions) == before


def test_a_body_with_a_matching_new_digest_still_fails_the_signature(
    kiosk: TestDevice, world: World
) -> None:
    body = push_body(kiosk)
    honest = kiosk.signed("POST", "/api/v1/sync/push", body=body)
    other = body.replace(b"Sam", b"Bob")
    redigested = kiosk.signed("POST", "/api/v1/sync/push", body=other)
    headers = dict(honest.headers)
    headers["content-digest"] = redigested.headers["content-digest"]
    forged = kiosk.http.build_request("POST", str(honest.url), content=other, headers=headers)
    before = stored_rows(world.sessions)
    assert_refused(kiosk.send(forged), 401, "signature_invalid")
    assert stored_rows(world.sessions) == before


def test_another_devices_key_cannot_sign_for_this_one(
    client: TestClient, kiosk: TestDevice, world: World
) -> None:
    thief = TestDevice(client, "http://testserver")
    thief.enrol(world.code())
    request = thief.signed(
        "POST", "/api/v1/sync/push", body=push_body(kiosk), key_id=kiosk.device_id
    )
    before = stored_rows(world.sessions)
    assert_refused(thief.send(request), 401, "signature_invalid")
    assert stored_rows(world.sessions) == before


@pytest.mark.parametrize(
    ("created_offset", "reason"),
    [(timedelta(minutes=-10), "created_stale"), (timedelta(minutes=10), "created_stale")],
)
def test_stale_or_future_signatures_are_refused(
    kiosk: TestDevice, world: World, created_offset: timedelta, reason: str
) -> None:
    request = kiosk.signed(
        "POST",
        "/api/v1/sync/push",
        body=push_body(kiosk),
        created=datetime.now(UTC) + created_offset,
    )
    before = stored_rows(world.sessions)
    assert_refused(kiosk.send(request), 401, reason)
    assert stored_rows(world.sessions) == before


def test_unknown_devices_are_refused(kiosk: TestDevice, world: World) -> None:
    request = kiosk.signed(
        "GET",
        "/api/v1/sync/pull",
        key=Ed25519PrivateKey.generate(),
        key_id="11111111-1111-4111-8111-111111111111",
    )
    assert_refused(kiosk.send(request), 401, "device_unknown")


def test_unsigned_requests_are_refused(client: TestClient, kiosk: TestDevice) -> None:
    assert_refused(client.get("/api/v1/sync/pull"), 401, "signature_missing")


def test_a_signature_for_another_url_is_refused(kiosk: TestDevice) -> None:
    request = kiosk.signed("GET", "/api/v1/sync/pull?cursor=5")
    moved = kiosk.http.build_request(
        "GET", "http://testserver/api/v1/sync/pull?cursor=0", headers=request.headers
    )
    assert_refused(kiosk.send(moved), 401, "signature_invalid")


def test_a_revoked_device_is_told_to_wipe(kiosk: TestDevice, world: World) -> None:
    with world.sessions.begin() as s:
        device = s.get(models.Device, kiosk.device_id)
        assert device is not None
        device.revoked_at = datetime.now(UTC)
    before = stored_rows(world.sessions)
    for response in (kiosk.pull(), kiosk.push(kiosk.register().events)):
        assert_refused(response, 401, "device_revoked")
        assert response.json()["wipe"] is True
    assert stored_rows(world.sessions) == before


def test_oversized_bodies_are_refused_before_parsing(kiosk: TestDevice, world: World) -> None:
    big = b'{"events": [' + b" " * protocol.MAX_PUSH_BYTES + b"]}"
    before = stored_rows(world.sessions)
    assert_refused(kiosk.send(kiosk.signed("POST", "/api/v1/sync/push", body=big)), 413,
                   "batch_too_large")  # fmt: skip
    assert stored_rows(world.sessions) == before


def test_more_than_a_batch_of_events_is_refused(kiosk: TestDevice, world: World) -> None:
    reg = kiosk.register()
    participant = reg.participant_id
    events = [
        kiosk.event("session.started", participant_id=participant)
        for _ in range(protocol.MAX_EVENTS_PER_PUSH + 1)
    ]
    before = stored_rows(world.sessions)
    assert_refused(kiosk.push(events), 413, "batch_too_large")
    # The signature was good, so its nonce is spent; nothing else is written.
    assert stored_rows(world.sessions)[:3] == before[:3]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"{}",
        b'{"events": "many"}',
        b'{"events": [{"id": "x"}]}',
        b'{"events": []}',
        b'{"events": [], "extra": 1}',
    ],
)
def test_malformed_bodies_are_refused_and_write_nothing(
    kiosk: TestDevice, world: World, body: bytes
) -> None:
    before = stored_rows(world.sessions)
    response = kiosk.send(kiosk.signed("POST", "/api/v1/sync/push", body=body))
    assert response.status_code == 422
    after = stored_rows(world.sessions)
    # The signature was good, so its nonce is spent; nothing else is written.
    assert after[:3] == before[:3]


def test_a_malformed_enrolment_is_refused(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/v1/devices/enrol",
        json={
            "code": world.code(),
            "ed25519_public_key": "not base64!",
            "x25519_recipient": "age1nope",
            "device_name": "x",
            "app_version": "1",
        },
    )
    assert response.status_code == 422
    with world.sessions() as s:
        assert s.scalar(select(func.count()).select_from(models.Device)) == 0
