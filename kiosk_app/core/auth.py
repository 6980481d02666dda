"""Participant login: access code + PIN, growing delays, lockout, first-login PIN choice.

`LoginService.attempt` and `choose_pin` run argon2 (tens of milliseconds by design):
the UI must call them off the GUI thread (through its task runner), never in a slot.
Nothing here logs a PIN, a name or an answer; log lines carry ids only.
"""

from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from kiosk_app.core.clock import Clock
from kiosk_app.core.pin import PIN_LENGTH as PIN_LENGTH  # re-exported
from kiosk_app.store import journal, repos
from kiosk_app.store.db import Store
from kiosk_app.store.models import Participant

log = logging.getLogger(__name__)

WRONG_DETAILS = "That access code and PIN do not match. Please check them and try again."
LOCKED_MESSAGE = "This account is locked. Please ask an officer to help you."
# A stand-in so an unknown access code costs the same hash as a known one.
_DUMMY_SECRET = "not-a-pin"


class LoginOutcome(StrEnum):
    SIGNED_IN = "signed-in"
    REFUSED = "refused"  # wrong PIN or unknown code: one message for both
    WAIT = "wait"  # too soon after a wrong PIN; the PIN was not checked
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class LoginResult:
    outcome: LoginOutcome
    message: str
    participant_id: str | None = None
    retry_after_seconds: int = 0
    needs_privacy_notice: bool = False
    must_choose_pin: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome is LoginOutcome.SIGNED_IN


@dataclass(frozen=True, slots=True)
class PinChoice:
    accepted: bool
    problem: str | None = None


def delay_after(failures: int) -> int:
    """Seconds to wait before the next attempt after `failures` wrong PINs in a row."""
    return 0 if failures <= 0 else 2**failures


def wait_message(seconds: int) -> str:
    unit = "second" if seconds == 1 else "seconds"
    return f"Please wait {seconds} {unit} before trying again."


def pin_problem(new_pin: str, confirm: str) -> str | None:
    """Why a chosen PIN is refused, in plain words, or None if it is acceptable."""
    if len(new_pin) != PIN_LENGTH or not (new_pin.isascii() and new_pin.isdigit()):
        return f"Your PIN must be {PIN_LENGTH} numbers."
    if len(set(new_pin)) == 1:
        return "Your PIN cannot be the same number six times."
    steps = {int(b) - int(a) for a, b in zip(new_pin, new_pin[1:], strict=False)}
    if steps in ({1}, {-1}):
        return "Your PIN cannot be numbers in order, like 123456 or 654321."
    if new_pin != confirm:
        return "The two PINs are not the same. Please type it again."
    return None


class LoginService:
    """Checks access codes and PINs against the local store; journals what happened."""

    def __init__(self, *, store: Store, clock: Clock, hasher: PasswordHasher | None = None) -> None:
        self._store = store
        self._clock = clock
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None
        # Unknown codes get the same delays as known ones, so a wait does not reveal a code.
        self._unknown: dict[str, tuple[int, datetime]] = {}

    def attempt(self, *, access_code: str, pin: str) -> LoginResult:
        code = access_code.strip().upper()
        now = self._clock.now()
        with self._store.unit() as s:
            person = repos.participant_by_code(s, code)
            if person is None:
                return self._unknown_code(code, pin, now)
            if person.locked:
                log.info("login refused: participant %s is locked", person.id)
                return LoginResult(LoginOutcome.LOCKED, LOCKED_MESSAGE, retry_after_seconds=0)
            remaining = _remaining(person.failed_pin_attempts, person.last_failed_pin_at, now)
            if remaining > 0:
                return LoginResult(
                    LoginOutcome.WAIT, wait_message(remaining), retry_after_seconds=remaining
                )
            if not self._verify(person.pin_hash, pin):
                return self._wrong_pin(s, person, now)
            person.failed_pin_attempts = 0
            person.last_failed_pin_at = None
            journal.record(
                s, event_type="session.started", participant_id=person.id, clock=self._clock
            )
            log.info("participant %s signed in", person.id)
            return LoginResult(
                LoginOutcome.SIGNED_IN,
                "",
                participant_id=person.id,
                needs_privacy_notice=person.privacy_confirmed_at is None,
                must_choose_pin=person.pin_must_change,
            )

    def confirm_privacy(self, *, participant_id: str) -> None:
        """Record that the participant read and confirmed the privacy notice (kept locally)."""
        with self._store.unit() as s:
            person = _require(repos.participant(s, participant_id))
            if person.privacy_confirmed_at is None:
                person.privacy_confirmed_at = self._clock.now()

    def choose_pin(self, *, participant_id: str, new_pin: str, confirm: str) -> PinChoice:
        """Set the participant's own PIN; journals `pin.changed` with the new argon2id hash."""
        problem = pin_problem(new_pin, confirm)
        if problem is not None:
            return PinChoice(False, problem)
        with self._store.unit() as s:
            person = _require(repos.participant(s, participant_id))
            if person.pin_must_change and self._verify(person.pin_hash, new_pin):
                return PinChoice(False, "Please choose a new PIN, not the one you were given.")
            new_hash = self._hasher.hash(new_pin)
            person.pin_hash = new_hash
            person.pin_must_change = False
            journal.record(
                s,
                event_type="pin.changed",
                participant_id=person.id,
                data={"pin_hash": new_hash},
                clock=self._clock,
            )
        log.info("participant %s chose a new PIN", participant_id)
        return PinChoice(True)

    def _verify(self, pin_hash: str | None, pin: str) -> bool:
        if pin_hash is None:
            self._burn(pin)
            return False
        try:
            return self._hasher.verify(pin_hash, pin)
        except (VerificationError, InvalidHashError):
            return False

    def _burn(self, pin: str) -> None:
        """Spend one hash's worth of time, so a miss takes as long as a check."""
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(_DUMMY_SECRET)
        with contextlib.suppress(VerificationError):
            self._hasher.verify(self._dummy_hash, pin)

    def _unknown_code(self, code: str, pin: str, now: datetime) -> LoginResult:
        failures, last = self._unknown.get(code, (0, now))
        remaining = _remaining(failures, last, now)
        if remaining > 0:
            return LoginResult(
                LoginOutcome.WAIT, wait_message(remaining), retry_after_seconds=remaining
            )
        self._burn(pin)
        failures += 1
        self._unknown[code] = (failures, now)
        return LoginResult(
            LoginOutcome.REFUSED, WRONG_DETAILS, retry_after_seconds=delay_after(failures)
        )

    def _wrong_pin(self, s: Session, person: Participant, now: datetime) -> LoginResult:
        limit = repos.settings(s).max_pin_attempts
        person.failed_pin_attempts += 1
        person.last_failed_pin_at = now
        person.locked = person.failed_pin_attempts >= limit
        journal.record(
            s,
            event_type="login.failed",
            participant_id=person.id,
            data={"failed_attempts": person.failed_pin_attempts, "locked": person.locked},
            clock=self._clock,
        )
        log.info("wrong PIN for participant %s (%d)", person.id, person.failed_pin_attempts)
        if person.locked:
            return LoginResult(LoginOutcome.LOCKED, LOCKED_MESSAGE)
        delay = delay_after(person.failed_pin_attempts)
        return LoginResult(LoginOutcome.REFUSED, WRONG_DETAILS, retry_after_seconds=delay)


def _remaining(failures: int, last: datetime | None, now: datetime) -> int:
    if failures <= 0 or last is None:
        return 0
    delay = delay_after(failures)
    # Clamped, so a wall clock set backwards cannot stretch a 2 s wait into hours.
    left = min(float(delay), delay - (now - last).total_seconds())
    return max(0, math.ceil(left))


def _require(person: Participant | None) -> Participant:
    if person is None:
        raise LookupError("no such participant on this kiosk")
    return person
