"""The sync wire contract: what the schemas accept and refuse, and device request signatures."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from content_packs.age import X25519Identity
from content_packs.signing import PublicKey
from sync_server.device_auth import DeviceAuth
from sync_server.protocol import (
    EVENT_TYPES,
    MAX_EVENTS_PER_PUSH,
    REASON_STATUS,
    Change,
    EnrolmentState,
    EnrolRequest,
    EnrolResponse,
    ErrorBody,
    ParticipantState,
    PullResponse,
    PushRequest,
    Reason,
    SyncEvent,
    assignment_data,
    canonical_json,
    change_data,
    pin_data,
    registration_data,
)
from sync_server.signatures import (
    SignatureRejected,
    VerifiedSignature,
    sign_request,
    verify_request,
)

EVENT_ID = "0b9e5f0c-6f7d-4a61-9d7e-2f0c1a2b3c4d"
DEVICE_ID = "5a1c2e3f-0000-4000-8000-00000000d001"
PARTICIPANT_ID = "5a1c2e3f-0000-4000-8000-0000000000a1"
ENROLMENT_ID = "5a1c2e3f-0000-4000-8000-0000000000e1"
PIN_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g"
URL = "http://testserver/api/v1/sync/push"
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def event_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": EVENT_ID,
        "device_id": DEVICE_ID,
        "seq": 7,
        "participant_id": PARTICIPANT_ID,
        "enrolment_id": ENROLMENT_ID,
        "type": "step.completed",
        "step_id": "why-it-matters",
        "data": {"answer": "Só gwych", "score": 3, "ok": True, "parts": [1, 2.5, None]},
        "occurred_at": "2025-03-01T12:00:00.123456+01:00",
        "monotonic_ms": 123_456,
    }
    fields.update(changes)
    return fields


def registration(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "first_name": "Sam",
        "force_reference": "CR/2025/0042",
        "access_code": "K7Q-00042",
        "pin_hash": PIN_HASH,
        "language": "en-GB",
        "accessibility": {"large_text": True},
    }
    data.update(changes)
    return data


# --- events -----------------------------------------------------------------------------


def test_a_valid_event_is_accepted_and_its_time_normalised_to_utc() -> None:
    event = SyncEvent.model_validate(event_fields())
    assert event.occurred_at == datetime(2025, 3, 1, 11, 0, 0, 123456, tzinfo=UTC)
    assert event.occurred_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "not-a-uuid"),
        ("id", EVENT_ID.upper()),
        ("id", EVENT_ID.replace("-", "")),
        ("device_id", ""),
        ("participant_id", 42),
        ("enrolment_id", "{" + ENROLMENT_ID + "}"),
        ("seq", 0),
        ("seq", "7"),
        ("seq", 7.0),
        ("seq", True),
        ("seq", 2**63),
        ("monotonic_ms", -1),
        ("type", "step.skipped"),
        ("type", "STEP.COMPLETED"),
        ("step_id", "Why It Matters"),
        ("step_id", "-leading-dash"),
        ("step_id", "x" * 65),
        ("occurred_at", "2025-03-01T12:00:00"),
        ("occurred_at", datetime(2025, 3, 1, 12, 0)),
        ("occurred_at", "yesterday"),
        ("data", ["not", "an", "object"]),
    ],
)
def test_an_event_with_a_bad_field_is_refused(field: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        SyncEvent.model_validate(event_fields(**{field: value}))


def test_an_event_with_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        SyncEvent.model_validate({**event_fields(), "surname": "Jones"})


def test_every_event_type_is_accepted() -> None:
    for event_type in EVENT_TYPES:
        assert SyncEvent.model_validate(event_fields(type=event_type)).type == event_type
    assert len(EVENT_TYPES) == 16


def test_events_are_frozen() -> None:
    event = SyncEvent.model_validate(event_fields())
    with pytest.raises(ValidationError):
        event.seq = 8


# --- content hash -----------------------------------------------------------------------


def test_canonical_bytes_are_sorted_compact_utf8_with_a_z_time() -> None:
    event = SyncEvent.model_validate(event_fields(data={"b": 1, "a": "é"}))
    assert (
        event.canonical_bytes()
        == (
            '{"data":{"a":"é","b":1},"device_id":"' + DEVICE_ID + '",'
            '"enrolment_id":"' + ENROLMENT_ID + '","id":"' + EVENT_ID + '",'
            '"monotonic_ms":123456,"occurred_at":"2025-03-01T11:00:00.123456Z",'
            '"participant_id":"' + PARTICIPANT_ID + '","seq":7,'
            '"step_id":"why-it-matters","type":"step.completed"}'
        ).encode()
    )
    assert event.content_hash() == hashlib.sha256(event.canonical_bytes()).hexdigest()


def test_content_hash_survives_json_and_dict_round_trips() -> None:
    event = SyncEvent.model_validate(event_fields())
    via_json = SyncEvent.model_validate_json(event.model_dump_json())
    via_dict = SyncEvent.model_validate(json.loads(json.dumps(event.model_dump(mode="json"))))
    same_instant = SyncEvent.model_validate(
        event_fields(
            occurred_at=datetime(2025, 3, 1, 6, 0, 0, 123456, timezone(timedelta(hours=-5)))
        )
    )
    assert {via_json.content_hash(), via_dict.content_hash(), same_instant.content_hash()} == {
        event.content_hash()
    }


_uuids = st.uuids(version=4).map(str)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    ids=st.tuples(_uuids, _uuids, _uuids, st.none() | _uuids),
    seq=st.integers(1, 2**63 - 1),
    monotonic_ms=st.integers(0, 2**63 - 1),
    step_id=st.none() | st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,63}\Z"),
    kind=st.sampled_from(["step.viewed", "quiz.answered", "pin.changed", "session.ended"]),
    data=st.dictionaries(st.text(max_size=8), _json_values, max_size=4),
    occurred_at=st.datetimes(timezones=st.just(UTC)),
)
def test_canonical_bytes_equal_the_canonical_json_of_the_fields(
    ids: tuple[str, str, str, str | None],
    seq: int,
    monotonic_ms: int,
    step_id: str | None,
    kind: str,
    data: dict[str, Any],
    occurred_at: datetime,
) -> None:
    event_id, device_id, participant_id, enrolment_id = ids
    try:
        event = SyncEvent.model_validate(
            event_fields(
                id=event_id, device_id=device_id, participant_id=participant_id,
                enrolment_id=enrolment_id, seq=seq, monotonic_ms=monotonic_ms,
                step_id=step_id, type=kind, data=data, occurred_at=occurred_at,
            )
        )  # fmt: skip
    except ValidationError:
        return  # data the protocol refuses (too large, a lone surrogate) has no hash
    assert event.canonical_bytes() == canonical_json(event.canonical_fields())


def _dumps_canonically(value: Any) -> bytes:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(value=_json_values)
def test_canonical_json_is_json_dumps_with_the_canonical_options(value: Any) -> None:
    # canonical_json runs the C encoder directly; a hash must not change with that choice.
    try:
        expected: bytes | type[Exception] = _dumps_canonically(value)
    except UnicodeEncodeError:
        expected = UnicodeEncodeError  # a lone surrogate has no UTF-8 form
    if isinstance(expected, bytes):
        assert canonical_json(value) == expected
    else:
        with pytest.raises(expected):
            canonical_json(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), {"a": [float("-inf")]}])
def test_canonical_json_refuses_what_json_cannot_carry(value: Any) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        canonical_json(value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "0b9e5f0c-6f7d-4a61-9d7e-2f0c1a2b3c4e"),
        ("device_id", "5a1c2e3f-0000-4000-8000-00000000d002"),
        ("seq", 8),
        ("participant_id", "5a1c2e3f-0000-4000-8000-0000000000a2"),
        ("enrolment_id", None),
        ("type", "step.viewed"),
        ("step_id", None),
        ("step_id", "another-step"),
        ("data", {"answer": "Só gwych", "score": 4, "ok": True, "parts": [1, 2.5, None]}),
        ("data", {"answer": "Só gwych", "score": 3.0, "ok": True, "parts": [1, 2.5, None]}),
        ("data", {}),
        ("occurred_at", "2025-03-01T12:00:00.123457+01:00"),
        ("monotonic_ms", 123_457),
    ],
)
def test_content_hash_changes_with_any_field(field: str, value: Any) -> None:
    original = SyncEvent.model_validate(event_fields())
    changed = SyncEvent.model_validate(event_fields(**{field: value}))
    assert changed.content_hash() != original.content_hash()


# --- typed event data -------------------------------------------------------------------


def test_registration_assignment_and_pin_data_are_typed() -> None:
    registered = SyncEvent.model_validate(
        event_fields(type="participant.registered", step_id=None, data=registration())
    )
    assert registration_data(registered).access_code == "K7Q-00042"
    assigned = SyncEvent.model_validate(
        event_fields(
            type="enrolment.assigned",
            step_id=None,
            data={
                "programme_id": "thinking-first",
                "disposal_type": "conditional_caution",
                "conditions": "Complete the course.\nWrite a letter.",
                "due_date": "2025-04-01",
            },
        )
    )
    assert assignment_data(assigned).due_date == date(2025, 4, 1)
    for event_type in ("pin.changed", "pin.reset"):
        event = SyncEvent.model_validate(
            event_fields(type=event_type, step_id=None, data={"pin_hash": PIN_HASH})
        )
        assert pin_data(event).pin_hash == PIN_HASH


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"access_code": "k7q-00042"}, "access_code"),
        ({"access_code": "K7Q-0004"}, "access_code"),
        ({"access_code": "K7Q00042"}, "access_code"),
        ({"pin_hash": "$argon2i$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"}, "pin_hash"),
        ({"pin_hash": "123456"}, "pin_hash"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": " Sam"}, "first_name"),
        ({"first_name": "x" * 61}, "first_name"),
        ({"first_name": "Sam\x00"}, "first_name"),
        ({"force_reference": "r" * 41}, "force_reference"),
        ({"language": "English"}, "language"),
        ({"surname": "Jones"}, "surname"),
    ],
)
def test_bad_registration_data_gives_a_clear_value_error(
    changes: dict[str, Any], message: str
) -> None:
    event = SyncEvent.model_validate(
        event_fields(type="participant.registered", step_id=None, data=registration(**changes))
    )
    with pytest.raises(ValueError, match=f"ParticipantRegistration.*{message}"):
        registration_data(event)


@pytest.mark.parametrize(
    ("helper", "event_type"),
    [
        (registration_data, "pin.changed"),
        (assignment_data, "participant.registered"),
        (pin_data, "step.completed"),
    ],
)
def test_typed_data_helpers_refuse_the_wrong_event_type(
    helper: Callable[[SyncEvent], BaseModel], event_type: str
) -> None:
    event = SyncEvent.model_validate(event_fields(type=event_type))
    with pytest.raises(ValueError, match="carries no"):
        helper(event)


# --- enrolment --------------------------------------------------------------------------


def enrol_fields(**changes: Any) -> dict[str, Any]:
    raw_key = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    fields: dict[str, Any] = {
        "code": "ABCD-1234",
        "ed25519_public_key": base64.b64encode(raw_key).decode(),
        "x25519_recipient": X25519Identity.generate().recipient.to_str(),
        "device_name": "Custody suite kiosk 2",
        "app_version": "0.1.0",
    }
    fields.update(changes)
    return fields


def _corrupt_last(text: str) -> str:
    return text[:-1] + ("q" if text[-1] != "q" else "p")


def test_a_valid_enrol_request_yields_its_public_key() -> None:
    request = EnrolRequest.model_validate(enrol_fields())
    assert isinstance(request.public_key(), Ed25519PublicKey)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("code", "ABC12"),
        ("code", "A" * 33),
        ("code", "ABCD 1234"),
        ("ed25519_public_key", base64.b64encode(bytes(31)).decode()),
        ("ed25519_public_key", base64.b64encode(bytes(33)).decode()),
        ("ed25519_public_key", "A" * 42 + "B="),  # stray bits in the last character
        ("ed25519_public_key", "A" * 43 + "=" + "\n"),
        ("ed25519_public_key", "!" * 43 + "="),
        ("x25519_recipient", "age1" + "q" * 58),
        ("x25519_recipient", "AGE1" + "Q" * 58),
        ("x25519_recipient", "ssh-ed25519 AAAA"),
        ("device_name", ""),
        ("device_name", "kiosk\n2"),
        ("app_version", "1.0 beta"),
    ],
)
def test_a_bad_enrol_request_is_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        EnrolRequest.model_validate(enrol_fields(**{field: value}))


def test_an_age_recipient_with_a_broken_checksum_is_refused() -> None:
    recipient = X25519Identity.generate().recipient.to_str()
    with pytest.raises(ValidationError, match="x25519_recipient"):
        EnrolRequest.model_validate(enrol_fields(x25519_recipient=_corrupt_last(recipient)))


def enrol_response(**changes: Any) -> dict[str, Any]:
    raw = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    fields: dict[str, Any] = {
        "device_id": DEVICE_ID,
        "key_id": DEVICE_ID,
        "force": {"id": "wmp", "name": "West Midlands Police"},
        "site": {"id": "wmp-steelhouse", "name": "Steelhouse Lane"},
        "access_code_prefix": "K7Q",
        "publisher_keys": [PublicKey(key_id=bytes(range(8)), raw=raw).to_base64()],
        "server_time": "2025-03-01T12:00:00Z",
    }
    fields.update(changes)
    return fields


@pytest.mark.parametrize(
    "changes",
    [
        {"key_id": PARTICIPANT_ID},
        {"access_code_prefix": "k7q"},
        {"access_code_prefix": "K7QX"},
        {"publisher_keys": ["A" * 56]},
        {"server_time": "2025-03-01T12:00:00"},
    ],
)
def test_a_bad_enrol_response_is_refused(changes: dict[str, Any]) -> None:
    EnrolResponse.model_validate(enrol_response())
    with pytest.raises(ValidationError):
        EnrolResponse.model_validate(enrol_response(**changes))


# --- push and pull ----------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, MAX_EVENTS_PER_PUSH + 1])
def test_a_push_outside_the_batch_limits_is_refused(count: int) -> None:
    events = [event_fields(seq=n + 1) for n in range(count)]
    with pytest.raises(ValidationError, match="events"):
        PushRequest.model_validate({"events": events})


def participant_state(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": PARTICIPANT_ID,
        "first_name": "Sam",
        "access_code": "K7Q-00042",
        "pin_hash": None,
        "pin_must_change": True,
        "failed_pin_attempts": 0,
        "locked": False,
        "language": "en",
        "accessibility": {},
    }
    fields.update(changes)
    return fields


def test_changes_carry_typed_records() -> None:
    change = Change.model_validate(
        {"seq": 1, "kind": "participant", "op": "upsert", "id": PARTICIPANT_ID}
        | {"data": participant_state()}
    )
    assert isinstance(change_data(change), ParticipantState)
    deleted = Change.model_validate(
        {"seq": 2, "kind": "enrolment", "op": "delete", "id": ENROLMENT_ID}
    )
    with pytest.raises(ValueError, match="carries no data"):
        change_data(deleted)
    page = PullResponse.model_validate(
        {"changes": [change.model_dump(), deleted.model_dump()], "next_cursor": "42"}
        | {"more": False, "server_time": "2025-03-01T12:00:00Z"}
    )
    assert [c.seq for c in page.changes] == [1, 2]


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "participant", "op": "upsert", "id": PARTICIPANT_ID, "data": {}},
        {"kind": "participant", "op": "upsert", "id": ENROLMENT_ID, "data": participant_state()},
        {
            "kind": "participant",
            "op": "upsert",
            "id": PARTICIPANT_ID,
            "data": participant_state(surname="Jones"),
        },
        {
            "kind": "participant",
            "op": "upsert",
            "id": PARTICIPANT_ID,
            "data": participant_state(offence="theft"),
        },
        {"kind": "enrolment", "op": "delete", "id": ENROLMENT_ID, "data": {"status": "x"}},
        {"kind": "settings", "op": "upsert", "id": "site", "data": {"idle_timeout_seconds": 1}},
        {"kind": "catalogue", "op": "upsert", "id": "p@1", "data": {"pack_id": "p"}},
        {"kind": "device", "op": "upsert", "id": "x", "data": {}},
    ],
)
def test_a_bad_change_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Change.model_validate({"seq": 1, **change})


def test_enrolment_state_carries_no_offence_text() -> None:
    assert "offence" not in EnrolmentState.model_fields
    assert not {"surname", "last_name", "offence"} & set(ParticipantState.model_fields)


def test_constraints_appear_in_the_json_schema() -> None:
    push = json.dumps(PushRequest.model_json_schema())
    assert '"maxItems": 1000' in push
    assert '"x-max-canonical-bytes": 65536' in push
    assert '"format": "uuid"' in push
    assert '"step.completed"' in push
    enrol = json.dumps(EnrolRequest.model_json_schema())
    assert "age1" in enrol
    assert '"minLength": 6' in enrol


def test_every_reason_has_a_status_and_fits_an_error_body() -> None:
    for reason in Reason:
        body = ErrorBody(error=reason, detail="x", wipe=reason is Reason.DEVICE_REVOKED)
        assert body.error == reason.value
        assert REASON_STATUS[reason] in {401, 403, 413, 422, 429}


# --- request signatures -----------------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes


DEVICE_KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()
BODY = json.dumps({"events": [event_fields()]}).encode()


def resolve(key_id: str) -> Ed25519PublicKey | None:
    return DEVICE_KEY.public_key() if key_id == DEVICE_ID else None


def sign(
    *,
    method: str = "POST",
    url: str = URL,
    body: bytes = BODY,
    key_id: str = DEVICE_ID,
    key: Ed25519PrivateKey = DEVICE_KEY,
    created: datetime = NOW,
    nonce: str | None = None,
) -> Signed:
    headers = {"Content-Type": "application/json"}
    sign_request(
        method=method,
        url=url,
        headers=headers,
        body=body,
        key_id=key_id,
        private_key=key,
        created=created,
        nonce=nonce,
    )
    return Signed(method, url, headers, body)


def verify(signed: Signed, now: datetime = NOW) -> VerifiedSignature:
    return verify_request(
        method=signed.method,
        url=signed.url,
        headers=signed.headers,
        body=signed.body,
        resolve_key=resolve,
        now=now,
    )


def test_device_auth_signs_a_prepared_request_that_verifies() -> None:
    prepared = requests.Request(
        "POST", URL, data=BODY, auth=DeviceAuth(DEVICE_ID, DEVICE_KEY)
    ).prepare()
    assert isinstance(prepared.body, bytes)
    assert prepared.method is not None
    assert prepared.url is not None
    headers = dict(prepared.headers)
    expected_digest = base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    assert headers["Content-Digest"] == f"sha-256=:{expected_digest}:"
    assert headers["Signature-Input"].startswith(
        'sig1=("@method" "@target-uri" "content-digest");created='
    )
    assert 'alg="ed25519"' in headers["Signature-Input"]
    assert f'keyid="{DEVICE_ID}"' in headers["Signature-Input"]
    verified = verify_request(
        method=prepared.method,
        url=prepared.url,
        headers={name.lower(): value for name, value in headers.items()},
        body=prepared.body,
        resolve_key=resolve,
        now=datetime.now(UTC),
    )
    assert verified.key_id == DEVICE_ID
    assert len(verified.nonce) == 22


def test_device_auth_signs_an_empty_get_with_the_empty_digest() -> None:
    prepared = requests.Request(
        "GET", URL.replace("push", "pull?cursor=0"), auth=DeviceAuth(DEVICE_ID, DEVICE_KEY)
    ).prepare()
    assert prepared.headers["Content-Digest"] == (
        "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"
    )
    assert prepared.url is not None
    verify_request(
        method="GET",
        url=prepared.url,
        headers=dict(prepared.headers),
        body=b"",
        resolve_key=resolve,
        now=datetime.now(UTC),
    )


def test_a_signed_request_verifies_with_its_created_time_and_nonce() -> None:
    verified = verify(sign(nonce="n" * 22, created=NOW - timedelta(seconds=5)))
    assert verified == VerifiedSignature(DEVICE_ID, NOW - timedelta(seconds=5), "n" * 22)


def test_each_request_gets_a_fresh_nonce() -> None:
    assert verify(sign()).nonce != verify(sign()).nonce


def _without(*names: str) -> Callable[[Signed], Signed]:
    def drop(signed: Signed) -> Signed:
        kept = {k: v for k, v in signed.headers.items() if k.lower() not in names}
        return replace(signed, headers=kept)

    return drop


def _header(name: str, edit: Callable[[str], str]) -> Callable[[Signed], Signed]:
    def change(signed: Signed) -> Signed:
        return replace(signed, headers={**signed.headers, name: edit(signed.headers[name])})

    return change


def _resign(**kwargs: Any) -> Callable[[Signed], Signed]:
    return lambda _signed: sign(**kwargs)


def _input_params(params: str) -> Callable[[Signed], Signed]:
    # Rewrites Signature-Input; the signature no longer matches, but it must be refused earlier.
    return _header("Signature-Input", lambda _v: "sig1=" + params)


_COMPONENTS = '("@method" "@target-uri" "content-digest")'
_PARAMS = f';created={int(NOW.timestamp())};keyid="{DEVICE_ID}";alg="ed25519"'


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda s: replace(s, body=s.body + b" "), "digest_mismatch"),
        (lambda s: replace(s, body=b""), "digest_mismatch"),
        (_without("content-digest"), "digest_mismatch"),
        (_header("Content-Digest", lambda v: v.replace("sha-256", "sha-512")), "digest_mismatch"),
        (lambda s: replace(s, method="PUT"), "signature_invalid"),
        (lambda s: replace(s, url=URL.replace("push", "pull")), "signature_invalid"),
        (lambda s: replace(s, url=URL + "?x=1"), "signature_invalid"),
        (lambda s: replace(s, url=URL.replace("http:", "https:")), "signature_invalid"),
        (_resign(key=OTHER_KEY), "signature_invalid"),
        (_resign(key_id="5a1c2e3f-0000-4000-8000-00000000d999"), "device_unknown"),
        (_resign(created=NOW - timedelta(seconds=301)), "created_stale"),
        (_resign(created=NOW + timedelta(seconds=301)), "created_stale"),
        (_resign(nonce="short"), "signature_invalid"),
        (_without("signature"), "signature_missing"),
        (_without("signature-input"), "signature_missing"),
        (_without("signature", "signature-input", "content-digest"), "signature_missing"),
        (_header("Signature", lambda v: v.replace("sig1", "sig2")), "signature_invalid"),
        (_header("Signature", lambda v: v[:-3] + ":"), "signature_invalid"),
        (_input_params(_COMPONENTS + _PARAMS), "signature_invalid"),  # no nonce
        (
            _input_params('("@method" "@target-uri")' + _PARAMS + ';nonce="' + "n" * 22 + '"'),
            "signature_invalid",
        ),
        (
            _input_params(_COMPONENTS + _PARAMS.replace("ed25519", "hmac-sha256") + ';nonce="a"'),
            "signature_invalid",
        ),
        (
            _input_params(_COMPONENTS + _PARAMS + ';nonce="' + "n" * 22 + '";tag="x"'),
            "signature_invalid",
        ),
        (_input_params("garbage("), "signature_invalid"),
    ],
)
def test_a_tampered_request_is_refused_with_the_right_reason(
    tamper: Callable[[Signed], Signed], reason: str
) -> None:
    with pytest.raises(SignatureRejected) as caught:
        verify(tamper(sign()))
    assert caught.value.reason == reason


def test_created_within_the_skew_is_accepted_both_ways() -> None:
    verify(sign(created=NOW - timedelta(seconds=299)))
    verify(sign(created=NOW + timedelta(seconds=299)))


def test_header_names_are_case_insensitive() -> None:
    signed = sign()
    verify(replace(signed, headers={k.lower(): v for k, v in signed.headers.items()}))
    verify(replace(signed, headers={k.upper(): v for k, v in signed.headers.items()}))


def test_a_revoked_device_is_refused_by_its_resolver() -> None:
    def revoked(_key_id: str) -> Ed25519PublicKey | None:
        raise SignatureRejected("device_revoked", "erase local data")

    signed = sign(created=NOW - timedelta(days=1))
    with pytest.raises(SignatureRejected) as caught:
        verify_request(
            method=signed.method,
            url=signed.url,
            headers=signed.headers,
            body=signed.body,
            resolve_key=revoked,
            now=NOW,
        )
    assert caught.value.reason is Reason.DEVICE_REVOKED


def test_signing_twice_replaces_the_old_digest_and_signature() -> None:
    headers: dict[str, str] = {}
    for body in (b"first", b"second"):
        sign_request(
            method="POST",
            url=URL,
            headers=headers,
            body=body,
            key_id=DEVICE_ID,
            private_key=DEVICE_KEY,
            created=NOW,
        )
    verify(Signed("POST", URL, headers, b"second"))


SIGNED = sign()


@settings(max_examples=300, deadline=None)
@given(
    part=st.sampled_from(["body", "signature"]),
    position=st.integers(min_value=0),
    flip=st.integers(min_value=1, max_value=255),
)
def test_flipping_any_byte_of_body_or_signature_never_verifies(
    part: str, position: int, flip: int
) -> None:
    if part == "body":
        data = bytearray(SIGNED.body)
        data[position % len(data)] ^= flip
        tampered = replace(SIGNED, body=bytes(data))
    else:
        raw = bytearray(SIGNED.headers["Signature"].encode())
        raw[position % len(raw)] ^= flip
        text = raw.decode("latin-1")
        tampered = replace(SIGNED, headers={**SIGNED.headers, "Signature": text})
    with pytest.raises(SignatureRejected):
        verify(tampered)
