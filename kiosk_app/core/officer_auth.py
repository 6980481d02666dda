"""Officer sign-in to the console, offline, against credentials pulled from the server.

Like the participant login: one message for an unknown name and a wrong password, growing
waits after each wrong one, and a lock after too many (timed here, as no one on the kiosk
can unlock an officer). `attempt` runs argon2: call it off the GUI thread.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kiosk_app.core.auth import delay_after
from kiosk_app.core.clock import Clock
from kiosk_app.store.db import Store
from kiosk_app.store.models import Officer

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
LOCK_DURATION = timedelta(minutes=15)
_DUMMY_SECRET = "not-a-password"


class OfficerOutcome(StrEnum):
    SIGNED_IN = "signed-in"
    REFUSED = "refused"  # wrong password or unknown name: one answer for both
    WAIT = "wait"  # too soon after a wrong password; not checked
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class SignedInOfficer:
    username: str
    display_name: str
    role: str


@dataclass(frozen=True, slots=True)
class OfficerLoginResult:
    outcome: OfficerOutcome
    officer: SignedInOfficer | None = None
    retry_after_seconds: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome is OfficerOutcome.SIGNED_IN


class OfficerLoginService:
    def __init__(self, *, store: Store, clock: Clock, hasher: PasswordHasher | None = None) -> None:
        self._store = store
        self._clock = clock
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None
        # Unknown names get the same waits as known ones, so a wait does not reveal a name.
        self._unknown: dict[str, tuple[int, datetime]] = {}

    def attempt(self, *, username: str, password: str) -> OfficerLoginResult:
        name = username.strip().lower()
        now = self._clock.now()
        with self._store.unit() as s:
            officer = s.get(Officer, name)
            if officer is None:
                return self._unknown_name(name, password, now)
            if officer.locked_until is not None and officer.locked_until > now:
                left = _seconds(min(LOCK_DURATION, officer.locked_until - now))
                return OfficerLoginResult(OfficerOutcome.LOCKED, retry_after_seconds=left)
            remaining = _remaining(officer.failed_attempts, officer.last_failed_at, now)
            if remaining > 0:
                return OfficerLoginResult(OfficerOutcome.WAIT, retry_after_seconds=remaining)
            if not self._verify(officer.password_hash, password):
                return _wrong_password(officer, now)
            officer.failed_attempts = 0
            officer.last_failed_at = officer.locked_until = None
            log.info("officer %s opened the console", officer.username)
            who = SignedInOfficer(officer.username, officer.display_name, officer.role)
            return OfficerLoginResult(OfficerOutcome.SIGNED_IN, officer=who)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _unknown_name(self, name: str, password: str, now: datetime) -> OfficerLoginResult:
        failures, last = self._unknown.get(name, (0, now))
        remaining = _remaining(failures, last, now)
        if remaining > 0:
            return OfficerLoginResult(OfficerOutcome.WAIT, retry_after_seconds=remaining)
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(_DUMMY_SECRET)
        with contextlib.suppress(VerificationError):
            self._hasher.verify(self._dummy_hash, password)  # as slow as a real check
        failures += 1
        self._unknown[name] = (failures, now)
        return OfficerLoginResult(OfficerOutcome.REFUSED, retry_after_seconds=delay_after(failures))


def _wrong_password(officer: Officer, now: datetime) -> OfficerLoginResult:
    officer.failed_attempts += 1
    officer.last_failed_at = now
    log.info("wrong password for officer %s (%d)", officer.username, officer.failed_attempts)
    if officer.failed_attempts >= MAX_ATTEMPTS:
        officer.failed_attempts = 0
        officer.locked_until = now + LOCK_DURATION
        left = _seconds(LOCK_DURATION)
        return OfficerLoginResult(OfficerOutcome.LOCKED, retry_after_seconds=left)
    delay = delay_after(officer.failed_attempts)
    return OfficerLoginResult(OfficerOutcome.REFUSED, retry_after_seconds=delay)


def _remaining(failures: int, last: datetime | None, now: datetime) -> int:
    if failures <= 0 or last is None:
        return 0
    delay = delay_after(failures)
    # Clamped, so a wall clock set backwards cannot stretch a short wait into hours.
    left = min(float(delay), delay - (now - last).total_seconds())
    return max(0, _seconds(timedelta(seconds=left)))


def _seconds(span: timedelta) -> int:
    whole = int(span.total_seconds())
    return whole + (1 if span.total_seconds() > whole else 0)
