"""Scheme administration: forces, sites and staff accounts, each change audit-logged."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.models import AuditEntry, ChangeKind, Force, Role, Site, StaffUser
from sync_server.services.changes import record_change
from sync_server.services.writelock import begin_decision

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
MAX_NAME_LENGTH = 200
# The roles that may open a kiosk's officer console; their credentials go to the force's kiosks.
CONSOLE_ROLES = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMIN})
# Who the audit log names when a change comes from the command line.
CLI_ACTOR = "cli"

# argon2id with the library's RFC 9106 "low memory" defaults; one hasher, thread-safe.
_hasher = PasswordHasher()


class AdminError(Exception):
    """An administrative change was refused; the message says why, in one sentence."""


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (salted, parameters encoded in the string)."""
    return _hasher.hash(password)


def check_id(value: str, what: str) -> str:
    if not ID_PATTERN.fullmatch(value):
        raise AdminError(
            f"invalid {what} id {value!r}: use 2-40 lower-case letters, digits and hyphens, "
            "starting with a letter or digit"
        )
    return value


def _check_name(value: str, what: str) -> str:
    name = value.strip()
    if not name:
        raise AdminError(f"{what} name must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise AdminError(f"{what} name is longer than {MAX_NAME_LENGTH} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise AdminError(f"{what} name contains a control character")
    return name


def check_password(password: str) -> None:
    """The password policy: at least 12 characters, no more than 1024."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AdminError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AdminError(f"password must be at most {MAX_PASSWORD_LENGTH} characters")


def audit(
    s: Session,
    *,
    action: str,
    subject: str | None,
    force_id: str | None,
    now: datetime,
    actor: str = CLI_ACTOR,
    details: dict[str, Any] | None = None,
) -> None:
    s.add(
        AuditEntry(
            at=now,
            actor=actor,
            action=action,
            subject=subject,
            force_id=force_id,
            details=details or {},
        )
    )


def _existing_force(s: Session, force_id: str) -> Force:
    force = s.get(Force, force_id)
    if force is None:
        raise AdminError(f"unknown force {force_id!r}")
    return force


def create_force(s: Session, *, force_id: str, name: str, now: datetime) -> Force:
    check_id(force_id, "force")
    name = _check_name(name, "force")
    if s.get(Force, force_id) is not None:
        raise AdminError(f"force {force_id!r} already exists")
    force = Force(id=force_id, name=name, created_at=now)
    s.add(force)
    audit(s, action="force.created", subject=force_id, force_id=force_id, now=now)
    s.flush()
    return force


def create_site(s: Session, *, site_id: str, force_id: str, name: str, now: datetime) -> Site:
    check_id(site_id, "site")
    name = _check_name(name, "site")
    _existing_force(s, force_id)
    existing = s.get(Site, site_id)
    if existing is not None:
        if existing.force_id != force_id:
            raise AdminError(f"site {site_id!r} already exists and belongs to another force")
        raise AdminError(f"site {site_id!r} already exists")
    site = Site(id=site_id, force_id=force_id, name=name, created_at=now)
    s.add(site)
    audit(s, action="site.created", subject=site_id, force_id=force_id, now=now)
    s.flush()
    return site


def site_of_force(s: Session, *, site_id: str, force_id: str) -> Site:
    """The site, refusing one that is unknown or belongs to another force."""
    site = s.get(Site, site_id)
    if site is None:
        raise AdminError(f"unknown site {site_id!r}")
    if site.force_id != force_id:
        raise AdminError(f"site {site_id!r} belongs to another force")
    return site


def create_staff(
    s: Session,
    *,
    username: str,
    display_name: str,
    role: Role,
    force_id: str | None,
    password: str,
    now: datetime,
) -> StaffUser:
    if not USERNAME_PATTERN.fullmatch(username):
        raise AdminError(
            f"invalid username {username!r}: use 2-80 lower-case letters, digits, '.', '_' "
            "and '-', starting with a letter or digit"
        )
    display_name = _check_name(display_name, "display")
    role = Role(role)
    if force_id is None:
        if role is not Role.ADMIN:
            raise AdminError(f"a {role.value} account needs a force; only admins may have none")
    else:
        _existing_force(s, force_id)
    check_password(password)
    begin_decision(s)  # the change log's lock, so change numbers commit in order
    if s.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise AdminError(f"staff user {username!r} already exists")
    user = StaffUser(
        username=username,
        display_name=display_name,
        force_id=force_id,
        role=role,
        password_hash=hash_password(password),
        disabled=False,
        failed_logins=0,
        created_at=now,
    )
    s.add(user)
    s.flush()
    audit(
        s,
        action="staff.created",
        subject=username,
        force_id=force_id,
        now=now,
        details={"role": role.value},
    )
    staff_changed(s, user, now=now)
    return user


def set_password(
    s: Session, user: StaffUser, *, password_hash: str, now: datetime, actor: str = CLI_ACTOR
) -> None:
    """Give `user` a new password (already checked by `check_password` and hashed by
    `hash_password`, outside the transaction) and clear its lockout; the force's kiosks get
    the new credential at their next pull. Call under `writelock.begin_decision`.

    For someone who forgot theirs, set by an administrator (or on the server's command line)
    and handed over in person, as a first password is."""
    user.password_hash = password_hash
    user.failed_logins = 0
    user.locked_until = None
    audit(s, action="staff.password_set", subject=user.username, force_id=user.force_id,
          now=now, actor=actor)  # fmt: skip
    staff_changed(s, user, now=now)


def staff_changed(s: Session, user: StaffUser, *, now: datetime) -> None:
    """Tell the force's kiosks an account changed (created, disabled, enabled...).

    Call under `writelock.begin_decision`. The pull renders the account's state then: a
    console credential, or a delete once it is disabled or may no longer use a console.
    Scheme-wide accounts (no force) never go to kiosks.
    """
    if user.force_id is None:
        return
    record_change(
        s,
        kind=ChangeKind.OFFICER,
        entity_id=str(user.id),
        force_id=user.force_id,
        site_id=None,
        at=now,
    )


def staff_by_username(s: Session, username: str) -> StaffUser:
    user = s.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise AdminError(f"unknown staff user {username!r}")
    return user
