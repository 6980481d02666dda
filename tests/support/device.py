"""A test kiosk: real keys, real enrolment, real signed requests, over any httpx client."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx2
from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from content_packs import age
from sync_server import protocol
from sync_server.signatures import sign_request

# Cheap parameters: tests hash many PINs; the kiosk uses argon2-cffi's defaults.
_PINS = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@dataclass
class TestDevice:
    """One enrolled kiosk. `http` is a TestClient or an httpx2.Client on a live server."""

    http: httpx2.Client
    base_url: str
    name: str = "Test kiosk"
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    identity: age.X25519Identity = field(default_factory=age.X25519Identity.generate)
    enrolled: protocol.EnrolResponse | None = None
    seq: int = 0
    codes_made: int = 0

    __test__ = False  # not a pytest test class

    @property
    def device_id(self) -> str:
        assert self.enrolled is not None, "enrol the device first"
        return self.enrolled.device_id

    def public_key_b64(self) -> str:
        import base64

        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode()

    def enrol_request(self, code: str) -> httpx2.Response:
        body = {
            "code": code,
            "ed25519_public_key": self.public_key_b64(),
            "x25519_recipient": self.identity.recipient.to_str(),
            "device_name": self.name,
            "app_version": "0.1.0",
        }
        return self.http.post(f"{self.base_url}/api/v1/devices/enrol", json=body)

    def enrol(self, code: str) -> protocol.EnrolResponse:
        response = self.enrol_request(code)
        assert response.status_code == 200, response.text
        self.enrolled = protocol.EnrolResponse.model_validate_json(response.content)
        return self.enrolled

    def signed(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        created: datetime | None = None,
        nonce: str | None = None,
        key: Ed25519PrivateKey | None = None,
        key_id: str | None = None,
    ) -> httpx2.Request:
        """A signed request, built but not sent, so a test can tamper with it first."""
        url = f"{self.base_url}{path}"
        all_headers = {"content-type": "application/json"} if body else {}
        all_headers.update(headers or {})
        sign_request(
            method=method,
            url=url,
            headers=all_headers,
            body=body,
            key_id=key_id or self.device_id,
            private_key=key or self.key,
            created=created,
            nonce=nonce,
        )
        return self.http.build_request(method, url, content=body, headers=all_headers)

    def send(self, request: httpx2.Request) -> httpx2.Response:
        return self.http.send(request)

    def push(self, events: list[protocol.SyncEvent]) -> httpx2.Response:
        body = json.dumps({"events": [e.model_dump(mode="json") for e in events]}).encode()
        return self.send(self.signed("POST", "/api/v1/sync/push", body=body))

    def push_ok(self, events: list[protocol.SyncEvent]) -> list[protocol.EventResult]:
        response = self.push(events)
        assert response.status_code == 200, response.text
        return protocol.PushResponse.model_validate_json(response.content).results

    def pull(self, cursor: str = "") -> httpx2.Response:
        path = "/api/v1/sync/pull" + (f"?cursor={cursor}" if cursor else "")
        return self.send(self.signed("GET", path))

    def pull_all(self) -> list[protocol.Change]:
        changes: list[protocol.Change] = []
        cursor = ""
        while True:
            response = self.pull(cursor)
            assert response.status_code == 200, response.text
            page = protocol.PullResponse.model_validate_json(response.content)
            changes.extend(page.changes)
            cursor = page.next_cursor
            if not page.more:
                return changes

    def event(
        self,
        type: str,
        *,
        participant_id: str,
        enrolment_id: str | None = None,
        step_id: str | None = None,
        data: dict[str, Any] | None = None,
        occurred_at: datetime | None = None,
    ) -> protocol.SyncEvent:
        self.seq += 1
        return protocol.SyncEvent.model_validate(
            {
                "id": str(uuid.uuid4()),
                "device_id": self.device_id,
                "seq": self.seq,
                "participant_id": participant_id,
                "enrolment_id": enrolment_id,
                "type": type,
                "step_id": step_id,
                "data": data or {},
                "occurred_at": occurred_at or datetime.now(UTC),
                "monotonic_ms": self.seq * 1000,
            }
        )

    def next_access_code(self) -> str:
        assert self.enrolled is not None
        self.codes_made += 1
        return f"{self.enrolled.access_code_prefix}-{self.codes_made:05d}"

    def register(
        self, *, first_name: str = "Sam", pin: str = "135790", programme_id: str | None = None
    ) -> Registration:
        """Events that register a participant (and, given a programme, assign it)."""
        participant_id = str(uuid.uuid4())
        code = self.next_access_code()
        events = [
            self.event(
                "participant.registered",
                participant_id=participant_id,
                data={
                    "first_name": first_name,
                    "force_reference": f"REF/{code}",
                    "access_code": code,
                    "pin_hash": _PINS.hash(pin),
                    "language": "en",
                    "accessibility": {},
                },
            )
        ]
        enrolment_id = None
        if programme_id is not None:
            enrolment_id = str(uuid.uuid4())
            events.append(
                self.event(
                    "enrolment.assigned",
                    participant_id=participant_id,
                    enrolment_id=enrolment_id,
                    data={
                        "programme_id": programme_id,
                        "disposal_type": "community_resolution",
                        "conditions": "Complete the programme within 28 days.",
                        "due_date": (date.today() + timedelta(days=28)).isoformat(),
                    },
                )
            )
        return Registration(participant_id, enrolment_id, code, events)


@dataclass(frozen=True)
class Registration:
    participant_id: str
    enrolment_id: str | None
    access_code: str
    events: list[protocol.SyncEvent]
