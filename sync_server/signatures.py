"""Device request signatures: RFC 9421 Ed25519 over method, target URI and RFC 9530 digest."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import http_sf
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    MappingKeyResolver,
    algorithms,
)

from sync_server.protocol import MAX_CLOCK_SKEW_SECONDS, Reason

SIGNATURE_LABEL: Final = "sig1"
SIGNATURE_ALGORITHM: Final = "ed25519"
COVERED_COMPONENTS: Final = ("@method", "@target-uri", "content-digest")
SIGNATURE_PARAMETERS: Final = frozenset({"created", "keyid", "nonce", "alg"})
NONCE_BYTES: Final = 16
# 22 characters is the URL-safe base64 of 128 bits; shorter nonces are too guessable.
_NONCE: Final = re.compile(r"[A-Za-z0-9_-]{22,128}")
_KEY_ID: Final = re.compile(r"[!-~]{1,128}")
_ED25519_SIGNATURE_BYTES: Final = 64
_DIGEST_ALGORITHM: Final = "sha-256"


class SignatureRejected(Exception):
    """A request whose signature does not hold; `reason` is a `Reason` code for ErrorBody."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = Reason(reason)
        self.detail = detail
        super().__init__(f"{self.reason}: {detail}")


@dataclass(frozen=True)
class VerifiedSignature:
    """Who signed, when, and the nonce the caller must record to refuse a replay."""

    key_id: str
    created: datetime
    nonce: str


@dataclass
class _Message:
    # The request shape http_message_signatures reads: method, absolute URL, headers.
    method: str
    url: str
    headers: MutableMapping[str, str]


class _Verifier(HTTPMessageVerifier):
    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        # verify_request checks `created` against the caller's clock, which tests can set;
        # the library would read the wall clock here.
        return None


def new_nonce() -> str:
    return secrets.token_urlsafe(NONCE_BYTES)


def sign_request(
    *,
    method: str,
    url: str,
    headers: MutableMapping[str, str],
    body: bytes,
    key_id: str,
    private_key: Ed25519PrivateKey,
    created: datetime | None = None,
    nonce: str | None = None,
) -> None:
    """Add Content-Digest, Signature-Input and Signature (label sig1) to `headers`.

    `url` must be the absolute, already-encoded URL that is sent, and `body` its exact bytes.
    """
    if created is None:
        created = datetime.now(UTC)
    elif created.tzinfo is None:
        raise ValueError("created must be timezone-aware")
    # A digest left over from an earlier attempt may describe another body: always recompute.
    for name in [name for name in headers if name.lower() == "content-digest"]:
        del headers[name]
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: private_key}),
    )
    signer.sign(
        _Message(method, url, headers),
        key_id=key_id,
        created=created,
        nonce=new_nonce() if nonce is None else nonce,
        label=SIGNATURE_LABEL,
        covered_component_ids=COVERED_COMPONENTS,
        body=body,
    )


def _fields(headers: Mapping[str, str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    items: Iterable[tuple[str, str]] = headers.items()
    for name, value in items:
        key = name.lower()
        if key in fields and key in {"signature", "signature-input", "content-digest"}:
            raise SignatureRejected(Reason.SIGNATURE_INVALID, f"{key} header appears twice")
        fields[key] = value.strip(" \t")
    return fields


def _parse_dictionary(fields: Mapping[str, str], name: str) -> dict[str, Any]:
    try:
        parsed = http_sf.parse(fields[name].encode("ascii"), tltype="dictionary")
    except (ValueError, UnicodeError) as exc:
        raise SignatureRejected(Reason.SIGNATURE_INVALID, f"{name} is malformed: {exc}") from exc
    assert isinstance(parsed, dict)
    if list(parsed) != [SIGNATURE_LABEL]:
        raise SignatureRejected(
            Reason.SIGNATURE_INVALID, f"{name} must hold exactly one signature, {SIGNATURE_LABEL}"
        )
    return parsed


def _signature_params(fields: Mapping[str, str]) -> dict[str, Any]:
    member = _parse_dictionary(fields, "signature-input")[SIGNATURE_LABEL]
    components, params = member
    if not isinstance(components, list) or any(p for _, p in components):
        raise SignatureRejected(Reason.SIGNATURE_INVALID, "covered components are malformed")
    covered = [name for name, _ in components]
    if sorted(covered) != sorted(COVERED_COMPONENTS):
        raise SignatureRejected(
            Reason.SIGNATURE_INVALID,
            f"signature must cover exactly {', '.join(COVERED_COMPONENTS)}, not {covered}",
        )
    if "nonce" not in params:
        raise SignatureRejected(Reason.SIGNATURE_INVALID, "signature has no nonce")
    if set(params) != SIGNATURE_PARAMETERS:
        raise SignatureRejected(
            Reason.SIGNATURE_INVALID,
            f"signature parameters must be {sorted(SIGNATURE_PARAMETERS)}, not {sorted(params)}",
        )
    if params["alg"] != SIGNATURE_ALGORITHM:
        raise SignatureRejected(Reason.SIGNATURE_INVALID, f"alg must be {SIGNATURE_ALGORITHM}")
    if not isinstance(params["nonce"], str) or not _NONCE.fullmatch(params["nonce"]):
        raise SignatureRejected(Reason.SIGNATURE_INVALID, "nonce must be >= 128 bits of base64url")
    if not isinstance(params["keyid"], str) or not _KEY_ID.fullmatch(params["keyid"]):
        raise SignatureRejected(Reason.SIGNATURE_INVALID, "keyid is malformed")
    if type(params["created"]) is not int:
        raise SignatureRejected(Reason.SIGNATURE_INVALID, "created must be an integer")
    return dict(params)


def _check_signature_field(fields: Mapping[str, str]) -> None:
    value, params = _parse_dictionary(fields, "signature")[SIGNATURE_LABEL]
    if not isinstance(value, bytes) or params or len(value) != _ED25519_SIGNATURE_BYTES:
        raise SignatureRejected(Reason.SIGNATURE_INVALID, "signature must be 64 bytes")
    # Base64 can spell the same bytes several ways; accept one so a signature is not malleable.
    if http_sf.ser({SIGNATURE_LABEL: (value, {})}) != fields["signature"]:
        raise SignatureRejected(Reason.SIGNATURE_INVALID, "signature is not in canonical form")


def _created_at(timestamp: int, now: datetime, max_skew: timedelta) -> datetime:
    try:
        created = datetime.fromtimestamp(timestamp, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise SignatureRejected(Reason.CREATED_STALE, "created is out of range") from exc
    if created < now - max_skew or created > now + max_skew:
        raise SignatureRejected(
            Reason.CREATED_STALE,
            f"created is {created.isoformat()}, server time {now.isoformat()}; check the clock",
        )
    return created


def _check_digest(fields: Mapping[str, str], body: bytes) -> None:
    if "content-digest" not in fields:
        raise SignatureRejected(Reason.DIGEST_MISMATCH, "Content-Digest header is missing")
    value = fields["content-digest"]
    try:
        parsed = http_sf.parse(value.encode("ascii"), tltype="dictionary")
        if not isinstance(parsed, dict) or list(parsed) != [_DIGEST_ALGORITHM]:
            raise ValueError(f"Content-Digest must hold exactly one {_DIGEST_ALGORITHM} digest")
        ContentDigest.verify(value, body)
    except (ValueError, UnicodeError, HTTPMessageSignaturesException) as exc:
        raise SignatureRejected(Reason.DIGEST_MISMATCH, str(exc)) from exc


def verify_request(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    resolve_key: Callable[[str], Ed25519PublicKey | None],
    now: datetime,
    max_skew: timedelta = timedelta(seconds=MAX_CLOCK_SKEW_SECONDS),
) -> VerifiedSignature:
    """Check a device's signature or raise SignatureRejected with the reason code.

    `url` is the absolute URL as the client sent it (behind a TLS proxy, trust its
    forwarded scheme and host). `resolve_key` returns None for an unknown key id and may
    raise SignatureRejected(device_revoked) itself. The caller must still refuse a nonce it
    has already seen for this key (nonce_reused): that needs the server's database.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    fields = _fields(headers)
    if "signature" not in fields or "signature-input" not in fields:
        raise SignatureRejected(Reason.SIGNATURE_MISSING, "Signature and Signature-Input needed")
    params = _signature_params(fields)
    _check_signature_field(fields)
    # Key first, so a revoked device hears so even when its clock is wrong.
    key = resolve_key(params["keyid"])
    if key is None:
        raise SignatureRejected(Reason.DEVICE_UNKNOWN, f"no device has key id {params['keyid']}")
    created = _created_at(params["created"], now, max_skew)
    _check_digest(fields, body)
    verifier = _Verifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={params["keyid"]: key}, private_keys={}),
    )
    try:
        # No body: _check_digest above held the Content-Digest to it already, and the signature
        # must cover that header; the library would hash the whole body a second time.
        verifier.verify(
            _Message(method, url, fields),
            max_age=None,
            require_components=COVERED_COMPONENTS,
        )
    except HTTPMessageSignaturesException as exc:
        raise SignatureRejected(Reason.SIGNATURE_INVALID, str(exc)) from exc
    return VerifiedSignature(key_id=params["keyid"], created=created, nonce=params["nonce"])
