"""Officer services (Qt-free, offline): register and assign, reset a PIN, unlock, and
whether the kiosk is enrolled and who could use it (`device_setup`).

Each action is one unit of work that journals exactly what the server's ingest expects
(`participant.registered` + `enrolment.assigned`, `pin.reset`, `participant.unlocked`),
validated with the same wire models, so what the kiosk accepts offline the server accepts.
Access codes are PREFIX-nnnnn with this device's prefix; temporary PINs are random, hashed
with argon2id, shown once and never stored or logged in clear. Hashing is slow by design:
call these off the GUI thread.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from argon2 import PasswordHasher
from pydantic import BaseModel, JsonValue, ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kiosk_app.core.auth import PIN_LENGTH, pin_problem
from kiosk_app.core.clock import Clock
from kiosk_app.store import journal, repos
from kiosk_app.store.db import Store
from kiosk_app.store.models import Counter, Officer, Participant
from sync_server.protocol import EnrolmentAssignment, ParticipantRegistration, PinChange, Unlock

log = logging.getLogger(__name__)

_W = TypeVar("_W", bound=BaseModel)

ACCESS_CODE_COUNTER = "access_code"
_MAX_CODE_NUMBER = 99_999


class Problem(StrEnum):
    """Why an officer action was refused; the console words each one (translated)."""

    NOT_ENROLLED = "not-enrolled"
    PROGRAMME_MISSING = "programme-missing"
    DUE_DATE_PAST = "due-date-past"
    CODES_USED_UP = "codes-used-up"
    NO_SUCH_PARTICIPANT = "no-such-participant"
    INVALID_FIELD = "invalid-field"  # `OfficerError.field` names it


class OfficerError(Exception):
    """The action cannot be done; the message says why in plain (English) words, and
    `problem` (with `field` for a value the wire rules refuse) lets the console translate it."""

    def __init__(self, message: str, *, problem: Problem, field: str | None = None) -> None:
        super().__init__(message)
        self.problem = problem
        self.field = field


@dataclass(frozen=True, slots=True)
class DeviceSetup:
    """Whether the kiosk is enrolled, and who could use it now."""

    enrolled: bool
    officers: int
    participants: int

    @property
    def console_needs_enrolment(self) -> bool:
        """No enrolment and no officer account: nobody can sign in to the console, so the
        one-time enrolment code is the only key (officer accounts arrive with the first sync)."""
        return not self.enrolled and self.officers == 0

    @property
    def blank(self) -> bool:
        """Fresh or wiped: nothing a participant could do here until it is enrolled."""
        return self.console_needs_enrolment and self.participants == 0


@dataclass(frozen=True, slots=True)
class Credentials:
    """The slip handed to the participant: shown once (the PIN is kept only as a hash)."""

    participant_id: str
    enrolment_id: str
    access_code: str
    temporary_pin: str
    programme_id: str
    programme_title: str
    due_date: date


def temporary_pin() -> str:
    """A random six-digit PIN the kiosk's own rules would accept."""
    while True:
        pin = "".join(secrets.choice("0123456789") for _ in range(PIN_LENGTH))
        if pin_problem(pin, pin) is None:
            return pin


class OfficerService:
    def __init__(self, *, store: Store, clock: Clock, hasher: PasswordHasher | None = None) -> None:
        self._store = store
        self._clock = clock
        self._hasher = hasher or PasswordHasher()

    def register(
        self,
        *,
        first_name: str,
        force_reference: str,
        programme_id: str,
        disposal_type: str,
        due_date: date,
        conditions: str = "",
        language: str | None = None,
        accessibility: dict[str, Any] | None = None,
        officer: str | None = None,
    ) -> Credentials:
        """Register a participant and assign an installed programme; works offline.

        `language` is the one they read best (the kiosk speaks it where it can, and opens the
        programme's version in it); by default, the programme's own language. `officer` (the
        username of whoever is signed in on the console) goes on the record of both events."""
        pin = temporary_pin()
        pin_hash = self._hasher.hash(pin)
        participant_id, enrolment_id = str(uuid.uuid4()), str(uuid.uuid4())
        if due_date < self._clock.now().date():
            raise OfficerError("The due date is in the past.", problem=Problem.DUE_DATE_PAST)
        with self._store.unit() as s:
            prefix = repos.device(s).access_code_prefix
            if prefix is None:
                raise OfficerError(
                    "Enrol this kiosk before registering participants.",
                    problem=Problem.NOT_ENROLLED,
                )
            pack = repos.installed_pack(s, pack_id=programme_id, version=None)
            if pack is None:
                raise OfficerError(
                    "That programme is not on this kiosk yet. Sync first.",
                    problem=Problem.PROGRAMME_MISSING,
                )
            offered = repos.catalogue_entry(s, pack_id=programme_id, version=pack.version)
            code = _next_access_code(s, prefix)
            registration = _valid(
                ParticipantRegistration,
                first_name=first_name.strip(),
                force_reference=force_reference.strip(),
                access_code=code,
                pin_hash=pin_hash,
                language=language or (offered.language if offered is not None else "en"),
                accessibility=dict(accessibility or {}),
                officer=officer,
            )
            assignment = _valid(
                EnrolmentAssignment,
                programme_id=programme_id,
                disposal_type=disposal_type,
                conditions=conditions.strip(),
                due_date=due_date,
                officer=officer,
            )
            repos.add_participant(
                s,
                participant_id=participant_id,
                first_name=registration.first_name,
                access_code=code,
                pin_hash=pin_hash,
                pin_must_change=True,
                language=registration.language,
                accessibility=dict(registration.accessibility),
            )
            journal.record(
                s,
                event_type="participant.registered",
                participant_id=participant_id,
                data=_json(registration),
                clock=self._clock,
            )
            repos.add_enrolment(
                s,
                enrolment_id=enrolment_id,
                participant_id=participant_id,
                programme_id=programme_id,
                programme_version=pack.version,
                disposal_type=assignment.disposal_type,
                conditions=assignment.conditions,
                due_date=due_date,
            )
            journal.record(
                s,
                event_type="enrolment.assigned",
                participant_id=participant_id,
                enrolment_id=enrolment_id,
                data=_json(assignment),
                clock=self._clock,
            )
            title = offered.title if offered is not None else programme_id
        log.info("registered participant %s, enrolment %s", participant_id, enrolment_id)
        return Credentials(participant_id, enrolment_id, code, pin, programme_id, title, due_date)

    def programmes(self) -> list[tuple[str, str]]:
        """The programmes a participant can be assigned here: (pack id, title), newest versions."""
        with self._store.unit() as s:
            newest = {p.pack_id: p.version for p in repos.installed_packs(s)}
            found = []
            for pack_id, version in newest.items():
                offered = repos.catalogue_entry(s, pack_id=pack_id, version=version)
                found.append((pack_id, offered.title if offered is not None else pack_id))
        return sorted(found, key=lambda item: item[1].casefold())

    def languages(self) -> list[str]:
        """The languages of the programmes on this kiosk (codes, sorted), English always."""
        with self._store.unit() as s:
            found = {"en"}
            for installed in repos.installed_packs(s):
                offered = repos.catalogue_entry(
                    s, pack_id=installed.pack_id, version=installed.version
                )
                if offered is not None:
                    found.add(offered.language)
        return sorted(found)

    def device_setup(self) -> DeviceSetup:
        with self._store.unit() as s:
            enrolled = repos.device(s).device_id is not None
            officers = s.scalar(select(func.count()).select_from(Officer)) or 0
            participants = s.scalar(select(func.count()).select_from(Participant)) or 0
        return DeviceSetup(enrolled, int(officers), int(participants))

    def reset_pin(self, *, participant_id: str, officer: str | None = None) -> str:
        """A new temporary PIN (answered once, to hand over); unlocks the participant too.
        `officer`: the username of whoever did it, for the record."""
        pin = temporary_pin()
        pin_hash = self._hasher.hash(pin)
        with self._store.unit() as s:
            person = _participant(s, participant_id)
            person.pin_hash = pin_hash
            person.pin_must_change = True
            _unlock(person)
            journal.record(
                s,
                event_type="pin.reset",
                participant_id=participant_id,
                data=_json(PinChange(pin_hash=pin_hash, officer=officer)),
                clock=self._clock,
            )
        log.info("officer reset the PIN of participant %s", participant_id)
        return pin

    def unlock(self, *, participant_id: str, officer: str | None = None) -> None:
        """Clear wrong-PIN attempts and the lock, here and (after sync) everywhere.
        `officer`: the username of whoever did it, for the record."""
        with self._store.unit() as s:
            _unlock(_participant(s, participant_id))
            journal.record(
                s,
                event_type="participant.unlocked",
                participant_id=participant_id,
                data=_json(Unlock(officer=officer)),
                clock=self._clock,
            )
        log.info("officer unlocked participant %s", participant_id)


def _participant(s: Session, participant_id: str) -> Participant:
    person = repos.participant(s, participant_id)
    if person is None:
        raise OfficerError(
            "No such participant on this kiosk.", problem=Problem.NO_SUCH_PARTICIPANT
        )
    return person


def _unlock(person: Participant) -> None:
    person.failed_pin_attempts = 0
    person.last_failed_pin_at = None
    person.locked = False


def _next_access_code(s: Session, prefix: str) -> str:
    """PREFIX-nnnnn, never one already here (pulled or made): the server rejects a repeat."""
    while True:
        value = s.scalar(
            update(Counter)
            .where(Counter.name == ACCESS_CODE_COUNTER)
            .values(value=Counter.value + 1)
            .returning(Counter.value)
        )
        if value is None:
            s.add(Counter(name=ACCESS_CODE_COUNTER, value=1))
            s.flush()
            value = 1
        if value > _MAX_CODE_NUMBER:
            raise OfficerError(
                "This kiosk has used all its access codes; enrol it again.",
                problem=Problem.CODES_USED_UP,
            )
        code = f"{prefix}-{int(value):05d}"
        if repos.participant_by_code(s, code) is None:
            return code


def _valid(model: type[_W], **fields: Any) -> _W:
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "details"
        raise OfficerError(
            f"Please check {where.replace('_', ' ')}: {first['msg']}.",
            problem=Problem.INVALID_FIELD,
            field=where,
        ) from None


def _json(
    model: ParticipantRegistration | EnrolmentAssignment | PinChange | Unlock,
) -> dict[str, JsonValue]:
    # No "officer": null where nobody is named: the same data an older kiosk sends.
    data: dict[str, JsonValue] = model.model_dump(mode="json", exclude_none=True)
    return data
