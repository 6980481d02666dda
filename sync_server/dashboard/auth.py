"""Staff sign-in: password checks with a lockout kept in the database, sessions, CSRF tokens."""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from sync_server.dashboard.models import StaffLoginFailure, StaffSession
from sync_server.db import SessionFactory
from sync_server.models import Role, StaffUser
from sync_server.services.admin import MAX_PASSWORD_LENGTH, audit, hash_password

# A session's last-seen time is written at most this often, not on every request.
TOUCH_INTERVAL = timedelta(seconds=60)
MAX_USERNAME_LENGTH = 80
# The audit log names no one it cannot know: a typed username may be a mistyped password.
UNKNOWN_ACTOR = "unknown"

_hasher = PasswordHasher()


@dataclass(frozen=True, slots=True)
class Staff:
    """The signed-in staff member behind a request."""

    id: int
    username: str
    display_name: str
    role: Role
    # None: a scheme-wide administrator, who sees every force.
    force_id: str | None
    session_id: int
    csrf_token: str


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    failures_per_window: int
    window: timedelta
    idle_timeout: timedelta
    lifetime: timedelta


class Outcome(enum.Enum):
    SIGNED_IN = "signed_in"
    REFUSED = "refused"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class LoginResult:
    outcome: Outcome
    token: str | None = None


def normalise_username(raw: str) -> str:
    return raw.strip().lower()[:MAX_USERNAME_LENGTH]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_token_for(token: str) -> str:
    """The synchronizer token of a session: derived from its secret, so nothing is stored
    and a token from one session is worthless in another."""
    return hmac.new(token.encode("utf-8"), b"dashboard csrf", hashlib.sha256).hexdigest()


def tokens_match(expected: str, submitted: str | None) -> bool:
    return submitted is not None and hmac.compare_digest(expected.encode(), submitted.encode())


@cache
def _decoy_hash() -> str:
    # Unknown usernames are checked against this, so they take as long as known ones.
    return hash_password(secrets.token_urlsafe(16))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def log_in(
    sessions: SessionFactory,
    *,
    username: str,
    password: str,
    policy: LoginPolicy,
    now: datetime,
) -> LoginResult:
    """Check a password under the lockout; on success open a session and return its token.

    Blocking (argon2): call it off the event loop. The attempt is recorded as a failure
    before the password is checked, so parallel guesses cannot overrun the limit; no
    transaction is held while hashing.
    """
    name = normalise_username(username)
    with sessions.begin() as s:
        pending = StaffLoginFailure(username=name, at=now)
        s.add(pending)
        s.flush()
        recent = s.scalar(
            select(func.count())
            .select_from(StaffLoginFailure)
            .where(StaffLoginFailure.username == name, StaffLoginFailure.at > now - policy.window)
        )
        user = s.scalar(select(StaffUser).where(StaffUser.username == name))
        actor = user.username if user is not None else UNKNOWN_ACTOR
        force_id = user.force_id if user is not None else None
        if (recent or 0) > policy.failures_per_window:
            s.delete(pending)
            audit(
                s,
                action="staff.login_locked",
                subject=None,
                force_id=force_id,
                now=now,
                actor=actor,
            )
            return LoginResult(Outcome.LOCKED)
        stored_hash = user.password_hash if user is not None and not user.disabled else None
    ok = (
        _verify(stored_hash or _decoy_hash(), password)
        and stored_hash is not None
        and len(password) <= MAX_PASSWORD_LENGTH
    )
    with sessions.begin() as s:
        if not ok or user is None:
            audit(
                s,
                action="staff.login_failed",
                subject=None,
                force_id=force_id,
                now=now,
                actor=actor,
            )
            if recent == policy.failures_per_window:
                audit(
                    s,
                    action="staff.locked_out",
                    subject=None,
                    force_id=force_id,
                    now=now,
                    actor=actor,
                    details={"failures": recent},
                )
            return LoginResult(Outcome.REFUSED)
        # A success clears the count, this attempt's own pending row included.
        s.execute(delete(StaffLoginFailure).where(StaffLoginFailure.username == name))
        token = secrets.token_urlsafe(32)
        row = StaffSession(
            token_hash=token_hash(token),
            staff_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.lifetime,
            ended_at=None,
        )
        s.add(row)
        s.flush()
        audit(
            s,
            action="staff.login",
            subject=None,
            force_id=force_id,
            now=now,
            actor=actor,
            details={"session": row.id},
        )
        return LoginResult(Outcome.SIGNED_IN, token)


def session_staff(s: Session, *, token: str, policy: LoginPolicy, now: datetime) -> Staff | None:
    """The staff member of a live session (refreshing its idle clock), or None."""
    found = s.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.staff_id)
        .where(StaffSession.token_hash == token_hash(token))
    ).one_or_none()
    if found is None:
        return None
    row, user = found
    if (
        row.ended_at is not None
        or user.disabled
        or now >= row.expires_at
        or now - row.last_seen_at >= policy.idle_timeout
    ):
        if row.ended_at is None:
            row.ended_at = now
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
    return Staff(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        force_id=user.force_id,
        session_id=row.id,
        csrf_token=csrf_token_for(token),
    )


def log_out(s: Session, *, staff: Staff, now: datetime) -> None:
    row = s.get(StaffSession, staff.session_id)
    if row is not None and row.ended_at is None:
        row.ended_at = now
    audit(
        s,
        action="staff.logout",
        subject=None,
        force_id=staff.force_id,
        now=now,
        actor=staff.username,
        details={"session": staff.session_id},
    )


def sign_out_everywhere(
    s: Session, user: StaffUser, *, now: datetime, keep: int | None = None
) -> None:
    """End every live browser session of `user` (but `keep`, the session id of whoever is
    doing this to their own account): now, not at the session's next request."""
    ending = update(StaffSession).where(
        StaffSession.staff_id == user.id, StaffSession.ended_at.is_(None)
    )
    if keep is not None:
        ending = ending.where(StaffSession.id != keep)
    s.execute(ending.values(ended_at=now))


def forget_failed_sign_ins(s: Session, user: StaffUser) -> None:
    """Clear the account's failed sign-ins, so a new password works at once."""
    s.execute(delete(StaffLoginFailure).where(StaffLoginFailure.username == user.username))
