"""The sync wire contract shared by kiosk and server: versions, limits, bodies and error codes."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import json.encoder
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Final, Literal, NamedTuple, TypeVar, get_args

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    Strict,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from content_packs.age import X25519Recipient
from content_packs.agestream import AgeError
from content_packs.model import ID_PATTERN, LANGUAGE_PATTERN
from content_packs.model import Event as RuleEvent
from content_packs.signing import PublicKey, Signature, SignatureError

PROTOCOL_VERSION: Final = 1
API_PREFIX: Final = "/api/v1"
MAX_EVENTS_PER_PUSH: Final = 1000
MAX_PUSH_BYTES: Final = 1_000_000
MAX_CLOCK_SKEW_SECONDS: Final = 300
MAX_EVENT_DATA_BYTES: Final = 65_536
MAX_CHANGES_PER_PULL: Final = 1000

UUID_PATTERN: Final = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
ACCESS_CODE_PATTERN: Final = r"^[A-Z0-9]{3}-[0-9]{5}$"
_ONE_LINE: Final = r"^[^\s\x00-\x1f\x7f]([^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?$"
# Free text may keep tabs and line breaks, never other control characters.
_MULTI_LINE: Final = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
_ARGON2ID_PHC: Final = (
    r"^\$argon2id\$v=19\$m=[0-9]{1,10},t=[0-9]{1,10},p=[0-9]{1,3}"
    r"\$[A-Za-z0-9+/]{11,128}\$[A-Za-z0-9+/]{16,256}$"
)
_RECORD_ID: Final = r"^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,127}$"
_INT64_MAX: Final = 2**63 - 1  # every counter lands in a BIGINT column

Uuid = Annotated[str, Field(pattern=UUID_PATTERN, json_schema_extra={"format": "uuid"})]
Ident = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
RecordId = Annotated[str, StringConstraints(pattern=_RECORD_ID)]
Line = Annotated[str, StringConstraints(min_length=1, pattern=_ONE_LINE)]
Language = Annotated[str, StringConstraints(max_length=35, pattern=LANGUAGE_PATTERN)]
AccessCode = Annotated[str, StringConstraints(pattern=ACCESS_CODE_PATTERN)]
PinHash = Annotated[str, StringConstraints(max_length=512, pattern=_ARGON2ID_PHC)]
Conditions = Annotated[str, StringConstraints(max_length=2000, pattern=_MULTI_LINE)]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
# Strict so that "5", 5.0 and true are refused rather than coerced at the trust boundary.
Count = Annotated[int, Strict(), Field(ge=0, le=_INT64_MAX)]
Seq = Annotated[int, Strict(), Field(ge=1, le=_INT64_MAX)]


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


_DATE_FIRST: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _not_a_number(value: object) -> object:
    # pydantic reads a JSON number, or a string of digits, as a Unix time (and 0 as a date
    # in 1970); the schema, and every kiosk, says an RFC 3339 string.
    if isinstance(value, int | float) or (
        isinstance(value, str) and _DATE_FIRST.match(value) is None
    ):
        raise ValueError("a date or time is an RFC 3339 string (YYYY-MM-DD...), not a number")
    return value


UtcDatetime = Annotated[AwareDatetime, BeforeValidator(_not_a_number), AfterValidator(_as_utc)]
Day = Annotated[date, BeforeValidator(_not_a_number)]
SmallDict = Annotated[dict[str, JsonValue], Field(max_length=64)]

EventType = Literal[
    "session.started",
    "session.ended",
    "step.viewed",
    "media.played",
    "step.completed",
    "quiz.answered",
    "reflection.submitted",
    "letter.submitted",
    "pledge.saved",
    "programme.completed",
    "participant.registered",
    "enrolment.assigned",
    "pin.changed",
    "pin.reset",
    "participant.unlocked",
    "login.failed",
]
EVENT_TYPES: Final[tuple[str, ...]] = get_args(EventType)
DisposalType = Literal["community_resolution", "conditional_caution"]
EnrolmentStatus = Literal["assigned", "in_progress", "completed", "expired", "withdrawn"]


class Reason(StrEnum):
    """Machine-readable error codes in `ErrorBody.error`."""

    SIGNATURE_MISSING = "signature_missing"
    SIGNATURE_INVALID = "signature_invalid"
    CREATED_STALE = "created_stale"
    NONCE_REUSED = "nonce_reused"
    DIGEST_MISMATCH = "digest_mismatch"
    DEVICE_UNKNOWN = "device_unknown"
    DEVICE_REVOKED = "device_revoked"
    ENROLMENT_CODE_INVALID = "enrolment_code_invalid"
    RATE_LIMITED = "rate_limited"
    BATCH_TOO_LARGE = "batch_too_large"
    BODY_INVALID = "body_invalid"


# Part of the contract: the kiosk retries only on 429 and 5xx, and wipes on device_revoked.
REASON_STATUS: Final[Mapping[Reason, int]] = {
    **dict.fromkeys(Reason, 401),
    Reason.ENROLMENT_CODE_INVALID: 403,
    Reason.RATE_LIMITED: 429,
    Reason.BATCH_TOO_LARGE: 413,
    Reason.BODY_INVALID: 422,
}


class Wire(BaseModel):
    """Base for every body here: immutable, and refuses fields it does not know."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _not_serialisable(value: object) -> object:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _canonical_encoder() -> Callable[[JsonValue], str]:
    """Sorted keys, no whitespace, no NaN, not ASCII-escaped: the C encoder json.dumps itself
    runs, made once. JSONEncoder.encode builds a new one on every call, a third of the cost
    for the small objects events carry. No cycle check: JSON values cannot hold a cycle."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return json.JSONEncoder(
            sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode
    encode = make(
        None, _not_serialisable, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )
    return lambda value: "".join(encode(value, 0))


_CANONICAL: Final = _canonical_encoder()


def canonical_json(value: JsonValue) -> bytes:
    """Sorted keys, no whitespace, UTF-8, no NaN: one byte string per value on every machine."""
    # A lone surrogate cannot be encoded; UnicodeEncodeError is a ValueError, so it is refused.
    return _CANONICAL(value).encode("utf-8")


def _canonical_time(value: datetime) -> str:
    # Fixed width with a 'Z' so the hash never depends on how a datetime was printed.
    if value.tzinfo is not UTC:  # validated events are in UTC already; this is for the rest
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")[:-6] + "Z"


# --- typed event data -------------------------------------------------------------------


STAFF_USERNAME_PATTERN: Final = r"^[a-z0-9][a-z0-9._-]{1,79}$"
StaffUsername = Annotated[str, StringConstraints(pattern=STAFF_USERNAME_PATTERN)]
# Who did it, for the record a case may be judged on: the officer signed in on the kiosk
# (their staff username). Absent from what the participant does, and from older kiosks.
ActingOfficer = Annotated[
    StaffUsername | None,
    Field(description="The username of the officer signed in on the kiosk who did this."),
]


class ParticipantRegistration(Wire):
    first_name: Annotated[Line, Field(max_length=60)]
    force_reference: Annotated[Line, Field(max_length=40)]
    access_code: AccessCode
    pin_hash: PinHash
    language: Language
    accessibility: SmallDict = Field(default_factory=dict)
    officer: ActingOfficer = None


class EnrolmentAssignment(Wire):
    programme_id: Ident
    disposal_type: DisposalType
    conditions: Conditions = ""
    due_date: Day
    officer: ActingOfficer = None


class PinChange(Wire):
    pin_hash: PinHash
    officer: ActingOfficer = None  # a reset's; a participant's own change has none


class Unlock(Wire):
    officer: ActingOfficer = None


class SyncEvent(Wire):
    """One journal entry from a kiosk; `content_hash` tells a replay from a conflict.

    Only structure is checked here. Whether `data` fits the type is checked per event
    (`registration_data` and friends), and so is its size (`encoded().fits()`, at ingest,
    where the same encoding feeds the content hash and the stored row), so one bad event is
    rejected alone instead of failing, and then blocking, the whole batch.
    """

    id: Uuid
    device_id: Uuid
    seq: Seq
    participant_id: Uuid
    enrolment_id: Uuid | None = None
    type: EventType
    step_id: Ident | None = None
    data: dict[str, JsonValue] = Field(
        default_factory=dict,
        description=(
            f"At most {MAX_EVENT_DATA_BYTES} bytes as canonical JSON. participant.registered,"
            " enrolment.assigned, pin.changed and pin.reset, and participant.unlocked carry"
            " ParticipantRegistration, EnrolmentAssignment, PinChange and Unlock, checked per"
            " event."
        ),
        json_schema_extra={"x-max-canonical-bytes": MAX_EVENT_DATA_BYTES},
    )
    occurred_at: UtcDatetime
    monotonic_ms: Count

    def canonical_bytes(self) -> bytes:
        """Every field, in the canonical JSON that `content_hash` digests."""
        return self._canonical(canonical_json(self.data), _canonical_time(self.occurred_at))

    def _canonical(self, data_json: bytes, occurred_at: str) -> bytes:
        """`canonical_bytes`, given `data` encoded by `canonical_json` and the time by
        `_canonical_time`.

        Only `data` needs a JSON encoder: every other field is an integer, null or a string
        whose pattern (uuid, identifier, event type, fixed-width time) admits nothing JSON
        escapes, so the sorted object is assembled directly (a test holds it equal to
        `canonical_json` of the same fields)."""
        enrolment = "null" if self.enrolment_id is None else f'"{self.enrolment_id}"'
        step = "null" if self.step_id is None else f'"{self.step_id}"'
        return b"".join(
            (
                b'{"data":',
                data_json,
                (
                    f',"device_id":"{self.device_id}","enrolment_id":{enrolment}'
                    f',"id":"{self.id}","monotonic_ms":{self.monotonic_ms}'
                    f',"occurred_at":"{occurred_at}"'
                    f',"participant_id":"{self.participant_id}","seq":{self.seq}'
                    f',"step_id":{step},"type":"{self.type}"}}'
                ).encode("ascii"),
            )
        )

    def canonical_fields(self) -> dict[str, JsonValue]:
        """The fields `canonical_bytes` encodes, as a JSON object (for tests and tools)."""
        return {
            "id": self.id,
            "device_id": self.device_id,
            "seq": self.seq,
            "participant_id": self.participant_id,
            "enrolment_id": self.enrolment_id,
            "type": self.type,
            "step_id": self.step_id,
            "data": self.data,
            "occurred_at": _canonical_time(self.occurred_at),
            "monotonic_ms": self.monotonic_ms,
        }

    def content_hash(self) -> str:
        """SHA-256 hex of `canonical_bytes()`; occurred_at as YYYY-MM-DDTHH:MM:SS.ffffffZ."""
        return hashlib.sha256(self.canonical_bytes()).hexdigest()

    def encoded(self) -> EncodedEvent:
        """`data` and `occurred_at` as canonically encoded and the content hash, from one
        encoding of each."""
        data_json = canonical_json(self.data)
        occurred_at = _canonical_time(self.occurred_at)
        digest = hashlib.sha256(self._canonical(data_json, occurred_at)).hexdigest()
        return EncodedEvent(data_json, digest, occurred_at)


class EncodedEvent(NamedTuple):
    """What ingest needs of an event's bytes: its data as stored, its size, its hash, and its
    time as hashed (YYYY-MM-DDTHH:MM:SS.ffffffZ)."""

    data_json: bytes
    content_hash: str
    occurred_at: str

    def fits(self) -> bool:
        """Whether `data` is within MAX_EVENT_DATA_BYTES as canonical JSON."""
        return len(self.data_json) <= MAX_EVENT_DATA_BYTES


_W = TypeVar("_W", bound=Wire)


def _validate_data(event_type: str, model: type[_W], data: Mapping[str, JsonValue]) -> _W:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'data'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ValueError(
            f"data of {event_type} is not a valid {model.__name__}: {problems}"
        ) from None


def _typed_data(event: SyncEvent, model: type[_W], *types: str) -> _W:
    if event.type not in types:
        raise ValueError(f"{event.type} event carries no {model.__name__}")
    return _validate_data(event.type, model, event.data)


def registration_data(event: SyncEvent) -> ParticipantRegistration:
    """The participant a participant.registered event creates; ValueError otherwise."""
    return _typed_data(event, ParticipantRegistration, "participant.registered")


def assignment_data(event: SyncEvent) -> EnrolmentAssignment:
    """The enrolment an enrolment.assigned event creates; ValueError otherwise."""
    return _typed_data(event, EnrolmentAssignment, "enrolment.assigned")


def pin_data(event: SyncEvent) -> PinChange:
    """The new PIN hash of a pin.changed or pin.reset event; ValueError otherwise."""
    return _typed_data(event, PinChange, "pin.changed", "pin.reset")


def unlock_data(event: SyncEvent) -> Unlock:
    """Who unlocked the participant of a participant.unlocked event; ValueError otherwise."""
    return _typed_data(event, Unlock, "participant.unlocked")


# --- enrolment --------------------------------------------------------------------------


class EnrolRequest(Wire):
    code: Annotated[
        str, StringConstraints(min_length=6, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    ]
    ed25519_public_key: Annotated[
        str,
        Field(
            pattern=r"^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$",
            description="Standard base64 of the 32 raw bytes of the device's Ed25519 public key.",
        ),
    ]
    x25519_recipient: Annotated[
        str,
        Field(
            pattern=r"^age1[02-9ac-hj-np-z]{58}$",
            description="The device's age X25519 recipient, which pack headers are wrapped to.",
        ),
    ]
    device_name: Annotated[Line, Field(max_length=80)]
    app_version: Annotated[
        str, StringConstraints(max_length=40, pattern=r"^[0-9A-Za-z][0-9A-Za-z.+_-]*$")
    ]

    @field_validator("ed25519_public_key")
    @classmethod
    def _ed25519_key(cls, value: str) -> str:
        try:
            Ed25519PublicKey.from_public_bytes(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise ValueError("ed25519_public_key is not base64 of a 32-byte Ed25519 key") from exc
        return value

    @field_validator("x25519_recipient")
    @classmethod
    def _age_recipient(cls, value: str) -> str:
        try:
            X25519Recipient.from_str(value)
        except AgeError as exc:
            raise ValueError(f"x25519_recipient is not an age X25519 recipient: {exc}") from exc
        return value

    def public_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.ed25519_public_key))


class NamedRef(Wire):
    id: RecordId
    name: Annotated[Line, Field(max_length=120)]


class EnrolResponse(Wire):
    device_id: Uuid
    key_id: Annotated[Uuid, Field(description="The keyid every signature must carry.")]
    force: NamedRef
    site: NamedRef
    access_code_prefix: Annotated[
        str,
        Field(
            pattern=r"^[A-Z0-9]{3}$",
            description="Kiosks make access codes PREFIX-nnnnn: offline codes never collide.",
        ),
    ]
    publisher_keys: Annotated[
        list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{56}$")]],
        Field(max_length=16, description="minisign public keys, one base64 line each."),
    ]
    server_time: UtcDatetime

    @field_validator("publisher_keys")
    @classmethod
    def _minisign_keys(cls, value: list[str]) -> list[str]:
        for key in value:
            try:
                PublicKey.from_str(key)
            except SignatureError as exc:
                raise ValueError(f"publisher key {key!r} is not a minisign key: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _key_is_device(self) -> EnrolResponse:
        if self.key_id != self.device_id:
            raise ValueError("key_id must be the device_id")
        return self


# --- push -------------------------------------------------------------------------------


class PushRequest(Wire):
    events: Annotated[
        list[SyncEvent],
        Field(
            min_length=1,
            max_length=MAX_EVENTS_PER_PUSH,
            description=f"Distinct event ids; the whole body at most {MAX_PUSH_BYTES} bytes.",
        ),
    ]


EventStatus = Literal["accepted", "duplicate", "conflict", "rejected"]


class EventResult(Wire):
    id: Uuid
    status: EventStatus
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None


class PushResponse(Wire):
    results: list[EventResult]
    server_time: UtcDatetime


# --- pull -------------------------------------------------------------------------------


class ParticipantState(Wire):
    """What a kiosk may know of a participant: no surname, no offence."""

    id: Uuid
    first_name: Annotated[Line, Field(max_length=60)]
    access_code: AccessCode
    pin_hash: PinHash | None
    pin_must_change: bool
    failed_pin_attempts: Count
    locked: bool
    language: Language
    accessibility: SmallDict = Field(default_factory=dict)


class EnrolmentState(Wire):
    id: Uuid
    participant_id: Uuid
    programme_id: Ident
    programme_version: Annotated[int, Strict(), Field(ge=1)] | None
    disposal_type: DisposalType
    conditions: Conditions
    due_date: Day
    status: EnrolmentStatus
    progress_percent: Annotated[int, Strict(), Field(ge=0, le=100)]
    completed_at: UtcDatetime | None


class CatalogueEntry(Wire):
    pack_id: Ident
    version: Annotated[int, Strict(), Field(ge=1)]
    title: Annotated[Line, Field(max_length=200)]
    language: Language
    family: Annotated[
        Ident | None,
        Field(
            description="The programme this pack is a language version of (its packs share "
            "it); absent means the pack id."
        ),
    ] = None
    size: Count
    sha256: Annotated[Sha256Hex, Field(description="SHA-256 of the payload as served.")]
    signature: Annotated[str, Field(max_length=4096, description="The manifest's .minisig text.")]
    url: Annotated[str, StringConstraints(max_length=2048, pattern=r"^(/|https://)[!-~]+$")]

    @field_validator("signature")
    @classmethod
    def _minisig(cls, value: str) -> str:
        try:
            Signature.from_str(value)
        except SignatureError as exc:
            raise ValueError(f"signature is not minisign signature text: {exc}") from exc
        return value


class Revocation(Wire):
    """A pack withdrawn from use; version None withdraws every version."""

    pack_id: Ident
    version: Annotated[int, Strict(), Field(ge=1)] | None = None
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class Settings(Wire):
    idle_timeout_seconds: Annotated[int, Strict(), Field(ge=30, le=3600)] = 300
    idle_warning_seconds: Annotated[int, Strict(), Field(ge=5, le=300)] = 30
    max_pin_attempts: Annotated[int, Strict(), Field(ge=3, le=10)] = 5
    sync_interval_seconds: Annotated[int, Strict(), Field(ge=30, le=86_400)] = 300


# Review events are never pushed: the server makes them from an officer's verdict, and both
# sides name each one after the submission it judges, so the ids agree everywhere.
_REVIEW_EVENT_NAMESPACE: Final = uuid.UUID("5b0e7f0a-3c1d-4e2b-9a57-6f1d2c8e4b10")
ReviewVerdictKind = Literal["accepted", "returned"]


class ReviewVerdict(Wire):
    """An officer's verdict on a reflection or letter: the kiosk shows the comment to the
    participant at their next login, and adds `rule_event()` to the events its progress reads."""

    submission_id: Annotated[Uuid, Field(description="The submitted event this verdict judges.")]
    participant_id: Uuid
    enrolment_id: Uuid
    step_id: Ident
    verdict: ReviewVerdictKind
    comment: Annotated[Conditions, Field(description="For the participant; required on return.")]
    reviewed_at: UtcDatetime

    @model_validator(mode="after")
    def _returned_says_why(self) -> ReviewVerdict:
        if self.verdict == "returned" and not self.comment.strip():
            raise ValueError("a returned piece carries a comment saying what to change")
        return self

    def rule_event(self) -> RuleEvent:
        """The `review.accepted` or `review.returned` event the completion rules read."""
        return review_rule_event(
            submission_id=self.submission_id,
            step_id=self.step_id,
            verdict=self.verdict,
            reviewed_at=self.reviewed_at,
        )


def review_rule_event(
    *, submission_id: str, step_id: str, verdict: str, reviewed_at: datetime
) -> RuleEvent:
    """The review event judging `submission_id`, with an id both sides derive alike."""
    return RuleEvent(
        id=str(uuid.uuid5(_REVIEW_EVENT_NAMESPACE, submission_id)),
        type=f"review.{verdict}",
        step_id=step_id,
        occurred_at=reviewed_at,
        data={"submission_id": submission_id},
    )


OfficerRole = Literal["officer", "supervisor", "admin"]


class OfficerCredential(Wire):
    """A member of staff who may open a kiosk's officer console, checked offline there.

    Only what the check needs: no force, no email, no lockout state of the dashboard."""

    username: StaffUsername
    display_name: Annotated[Line, Field(max_length=200)]
    role: OfficerRole
    password_hash: PinHash


ChangeKind = Literal[
    "participant",
    "enrolment",
    "catalogue",
    "revocation",
    "settings",
    "event",
    "review",
    "officer",
]
# An "event" change carries a progress event of an enrolment in the device's scope that
# another device pushed, exactly as it was stored, so a participant can go on elsewhere.
ChangeData = (
    ParticipantState
    | EnrolmentState
    | CatalogueEntry
    | Revocation
    | Settings
    | SyncEvent
    | ReviewVerdict
    | OfficerCredential
)
_CHANGE_MODELS: Final[Mapping[str, type[ChangeData]]] = {
    "participant": ParticipantState,
    "enrolment": EnrolmentState,
    "catalogue": CatalogueEntry,
    "revocation": Revocation,
    "settings": Settings,
    "event": SyncEvent,
    "review": ReviewVerdict,
    "officer": OfficerCredential,
}


class Change(Wire):
    seq: Seq
    kind: ChangeKind
    op: Literal["upsert", "delete"]
    id: RecordId
    data: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="Empty for delete; for upsert the model named by kind.",
    )

    @model_validator(mode="after")
    def _data_fits_kind(self) -> Change:
        if self.op == "delete":
            if self.data:
                raise ValueError("a delete carries no data")
            return self
        state = _validate_data(self.kind, _CHANGE_MODELS[self.kind], self.data)
        if isinstance(state, ParticipantState | EnrolmentState | SyncEvent) and state.id != self.id:
            raise ValueError("change id must be the id of the record in data")
        if isinstance(state, ReviewVerdict) and state.submission_id != self.id:
            raise ValueError("a review change is named after the submission it judges")
        if isinstance(state, OfficerCredential) and state.username != self.id:
            raise ValueError("an officer change is named after the username")
        return self


def change_data(change: Change) -> ChangeData:
    """The typed record an upsert carries; ValueError for a delete."""
    if change.op == "delete":
        raise ValueError(f"delete of {change.kind} {change.id} carries no data")
    return _validate_data(change.kind, _CHANGE_MODELS[change.kind], change.data)


class PullResponse(Wire):
    changes: Annotated[list[Change], Field(max_length=MAX_CHANGES_PER_PULL)]
    next_cursor: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.~=:-]{1,200}$")]
    more: bool
    server_time: UtcDatetime


class ErrorBody(Wire):
    error: Annotated[
        str,
        Field(
            pattern=r"^[a-z][a-z0-9_]{0,63}$",
            description="A Reason code, or another snake_case code.",
        ),
    ]
    detail: Annotated[str, StringConstraints(max_length=2000)]
    wipe: bool = Field(
        default=False, description="True only with device_revoked: erase local data."
    )
