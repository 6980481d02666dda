"""The staff page for administrators: accounts of their force (or of the whole scheme, for a
scheme administrator), creating accounts with a first password, disabling and re-enabling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from sync_server.dashboard.access import CheckedForm, Refused, field, not_found, now, require
from sync_server.dashboard.attribution import claim
from sync_server.dashboard.auth import (
    Staff,
    forget_failed_sign_ins,
    normalise_username,
    sign_out_everywhere,
)
from sync_server.dashboard.confirm import carry_out
from sync_server.dashboard.scope import force_filter
from sync_server.dashboard.templating import ADMIN_ROLES, PREFIX, render
from sync_server.models import Force, Role, StaffUser
from sync_server.runtime import runtime_of
from sync_server.services import admin
from sync_server.services.admin import audit
from sync_server.services.writelock import begin_decision

PATH = f"{PREFIX}/staff"
SCHEME = ""  # the force field's value for a scheme-wide account

router = APIRouter(prefix=PATH, include_in_schema=False)
Admin = Annotated[Staff, Depends(require(ADMIN_ROLES))]


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    role: str
    force_id: str | None
    created_at: datetime
    disabled: bool


def accounts(s: Session, *, staff: Staff) -> list[Account]:
    """The accounts an administrator manages: their force's, or every one for the scheme's."""
    rows = s.scalars(
        select(StaffUser)
        .where(force_filter(staff, StaffUser.force_id))
        .order_by(StaffUser.disabled, StaffUser.force_id.is_not(None), StaffUser.username)
    )
    return [
        Account(
            u.username, u.display_name, Role(u.role).value, u.force_id, u.created_at, u.disabled
        )
        for u in rows
    ]


def forces(s: Session, *, staff: Staff) -> list[tuple[str, str]]:
    query = select(Force.id, Force.name).where(force_filter(staff, Force.id)).order_by(Force.name)
    return [(force_id, name) for force_id, name in s.execute(query)]


def _page(
    request: Request,
    staff: Staff,
    *,
    error: str = "",
    entered: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions() as s:
        listed = accounts(s, staff=staff)
        choices = forces(s, staff=staff)
    # Named from the database after a change, never echoed from the address.
    changed = request.query_params.get("changed", "")
    account = next((a for a in listed if a.username == changed), None)
    notice = ""
    if account is not None and request.query_params.get("password") == "set":
        notice = (
            f"{account.username} has a new password: give it to them in person. They were "
            "signed out everywhere, and kiosks learn it at their next sync."
        )
    elif account is not None:
        state = "disabled" if account.disabled else "active"
        notice = f"The account {account.username} is {state}."
    return render(
        "staff.html",
        staff=staff,
        zone=runtime.settings.dashboard_timezone,
        status_code=status_code,
        accounts=listed,
        forces=choices,
        roles=[r.value for r in Role],
        error=error,
        notice=notice,
        entered=entered or {},
        min_password=admin.MIN_PASSWORD_LENGTH,
    )


@router.get("")
def staff_page(request: Request, staff: Admin) -> Response:
    return _page(request, staff)


def _new_account_force(staff: Staff, chosen: str) -> str | None:
    """The new account's force: a force's administrator can only add to their own."""
    if staff.force_id is not None:
        if chosen not in (staff.force_id, ""):
            raise admin.AdminError("you may add accounts to your own force only")
        return staff.force_id
    return chosen or None


@router.post("")
def create(request: Request, staff: Admin, form: CheckedForm) -> Response:
    runtime = runtime_of(request)
    entered = {
        name: field(form, name).strip()[:200]
        for name in ("username", "display_name", "role", "force")
    }
    password = field(form, "password")
    at = now()
    username = ""
    try:
        if password != field(form, "password_again"):
            raise admin.AdminError("the two passwords differ")
        if entered["role"] not in {r.value for r in Role}:
            raise admin.AdminError("choose a role")
        username = normalise_username(entered["username"])
        with runtime.sessions.begin() as s:
            admin.create_staff(
                s,
                username=username,
                display_name=entered["display_name"] or username,
                role=Role(entered["role"]),
                force_id=_new_account_force(staff, entered["force"]),
                password=password,
                now=at,
            )
            claim(s, action="staff.created", subject=username, at=at, staff=staff)
    except admin.AdminError as exc:
        return _page(
            request,
            staff,
            error=_sentence(exc),
            entered=entered,
            status_code=400,
        )
    return RedirectResponse(f"{PATH}?{urlencode({'changed': username})}", status_code=303)


def _sentence(exc: admin.AdminError) -> str:
    """An admin refusal ("the two passwords differ") as a sentence for the page."""
    message = str(exc)
    return message[:1].upper() + message[1:] + "."


def _account_to_change(s: Session, staff: Staff, username: str) -> StaffUser:
    """The account an administrator acts on, under the decision lock; 404 outside their force."""
    begin_decision(s)
    user = s.scalar(
        select(StaffUser).where(
            StaffUser.username == username[:80], force_filter(staff, StaffUser.force_id)
        )
    )
    if user is None:
        raise not_found("staff account", staff)
    return user


def _set_disabled(request: Request, staff: Staff, username: str, disabled: bool) -> Response:
    def change(s: Session, at: datetime) -> str:
        user = _account_to_change(s, staff, username)
        if user.id == staff.id:
            raise Refused(400, "Not changed", "You cannot disable your own account.", staff=staff)
        if user.disabled != disabled:
            user.disabled = disabled
            if disabled:
                # Signed-in browsers of the account end now, not at their next request.
                sign_out_everywhere(s, user, now=at)
            audit(
                s,
                action="staff.disabled" if disabled else "staff.enabled",
                subject=user.username,
                force_id=user.force_id,
                now=at,
                actor=staff.username,
                details={"session": staff.session_id},
            )
            admin.staff_changed(s, user, now=at)
        return f"{PATH}?{urlencode({'changed': user.username})}"

    return carry_out(request, change)


@router.post("/{username}/disable")
def disable(
    request: Request,
    username: str,
    staff: Admin,
    _form: CheckedForm,
) -> Response:
    return _set_disabled(request, staff, username, True)


@router.post("/{username}/enable")
def enable(
    request: Request,
    username: str,
    staff: Admin,
    _form: CheckedForm,
) -> Response:
    return _set_disabled(request, staff, username, False)


@router.post("/{username}/password")
def set_password(
    request: Request,
    username: str,
    staff: Admin,
    form: CheckedForm,
) -> Response:
    """A new password for an account (for someone who forgot theirs, or whose password may
    be known to others): checked and hashed before the transaction, handed over in person."""
    password = field(form, "password")
    try:
        if password != field(form, "password_again"):
            raise admin.AdminError("the two passwords differ")
        admin.check_password(password)
    except admin.AdminError as exc:
        return _page(request, staff, error=_sentence(exc), status_code=400)
    password_hash = admin.hash_password(password)

    def change(s: Session, at: datetime) -> str:
        user = _account_to_change(s, staff, username)
        admin.set_password(s, user, password_hash=password_hash, now=at, actor=staff.username)
        own = user.id == staff.id
        sign_out_everywhere(s, user, now=at, keep=staff.session_id if own else None)
        forget_failed_sign_ins(s, user)
        return f"{PATH}?{urlencode({'changed': user.username, 'password': 'set'})}"

    return carry_out(request, change)
