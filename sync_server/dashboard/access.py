"""Who is asking: sign-in and sign-out pages, session and CSRF checks, role checks, refusals."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from sync_server.dashboard import auth
from sync_server.dashboard.auth import LoginPolicy, Outcome, Staff
from sync_server.dashboard.templating import PREFIX, render
from sync_server.models import Role
from sync_server.runtime import runtime_of
from sync_server.settings import Settings

router = APIRouter(include_in_schema=False)
LOGIN_PATH = f"{PREFIX}/login"
HOME_PATH = f"{PREFIX}/"
MAX_NEXT_LENGTH = 2000


class LoginRequired(Exception):
    def __init__(self, next_path: str, *, expired: bool) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.expired = expired


class Refused(Exception):
    """A page the user may not see (403), or one that is not there for them (404)."""

    def __init__(
        self, status_code: int, title: str, message: str, *, staff: Staff | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.title = title
        self.message = message
        self.staff = staff


def csrf_refused(staff: Staff | None = None) -> Refused:
    return Refused(
        403,
        "Form refused",
        "This form could not be accepted because its security token is missing or out of "
        "date. Go back, reload the page and try again.",
        staff=staff,
    )


def not_found(what: str, staff: Staff) -> Refused:
    # Records of another force answer exactly as missing ones do: their existence is private.
    return Refused(
        404, "Not found", f"There is no {what} here, or it is not yours to see.", staff=staff
    )


def now() -> datetime:
    return datetime.now(UTC)


def policy(settings: Settings) -> LoginPolicy:
    return LoginPolicy(
        failures_per_window=settings.staff_login_failures_per_window,
        window=settings.staff_login_window,
        idle_timeout=settings.dashboard_idle_timeout,
        lifetime=settings.dashboard_session_lifetime,
    )


def session_cookie(settings: Settings) -> str:
    # __Host- binds the cookie to this origin and path / (browsers require Secure for it).
    return "__Host-ik-session" if settings.dashboard_secure_cookies else "ik-session"


def login_cookie(settings: Settings) -> str:
    return "__Host-ik-login" if settings.dashboard_secure_cookies else "ik-login"


def _set_cookie(response: Response, settings: Settings, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.dashboard_secure_cookies,
    )


def _clear_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(
        name, path="/", httponly=True, samesite="strict", secure=settings.dashboard_secure_cookies
    )


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def safe_next(value: str | None) -> str:
    """Where to go after sign-in: only a path of this dashboard, never another site."""
    if (
        not value
        or len(value) > MAX_NEXT_LENGTH
        or not (value == PREFIX or value.startswith(f"{PREFIX}/"))
        or "//" in value
        or "\\" in value
        or "/../" in f"{value}/"
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)
        or value.startswith(LOGIN_PATH)
    ):
        return HOME_PATH
    return value


def current_staff(request: Request) -> Staff:
    """The signed-in staff member, or a redirect to the sign-in page."""
    runtime = runtime_of(request)
    token = request.cookies.get(session_cookie(runtime.settings))
    if token:
        with runtime.sessions.begin() as s:
            staff = auth.session_staff(s, token=token, policy=policy(runtime.settings), now=now())
        if staff is not None:
            return staff
    # Only a page can be returned to; a form posted from a lapsed session is not replayed.
    back = _here(request) if request.method == "GET" else HOME_PATH
    raise LoginRequired(back, expired=bool(token))


def require(roles: frozenset[Role]) -> Callable[[Staff], Staff]:
    """A dependency admitting only staff whose role is in `roles`."""

    def check(staff: Annotated[Staff, Depends(current_staff)]) -> Staff:
        if staff.role not in roles:
            raise Refused(
                403, "Not available", "Your role does not give access to this page.", staff=staff
            )
        return staff

    return check


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def checked_form(
    request: Request, staff: Annotated[Staff, Depends(current_staff)]
) -> FormData:
    """The submitted form, once its CSRF token matches the session's."""
    form = await request.form()
    if not auth.tokens_match(staff.csrf_token, field(form, "csrf_token")):
        raise csrf_refused(staff)
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def checked_upload(
    *, max_files: int, max_fields: int
) -> Callable[[Request, Staff], AsyncIterator[FormData]]:
    """A dependency: a form with files, once its CSRF token matches the session's; its
    spooled files are closed when the request is done."""

    async def upload(
        request: Request, staff: Annotated[Staff, Depends(current_staff)]
    ) -> AsyncIterator[FormData]:
        form = await request.form(max_files=max_files, max_fields=max_fields)
        try:
            if not auth.tokens_match(staff.csrf_token, field(form, "csrf_token")):
                raise csrf_refused(staff)
            yield form
        finally:
            await form.close()

    return upload


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse(HOME_PATH, status_code=303)


@router.get(PREFIX)
def dashboard_root() -> RedirectResponse:
    return RedirectResponse(HOME_PATH, status_code=303)


def _login_page(
    request: Request, *, status_code: int = 200, error: str = "", next_path: str = ""
) -> Response:
    settings = runtime_of(request).settings
    token = request.cookies.get(login_cookie(settings)) or secrets.token_urlsafe(32)
    notice = ""
    if request.query_params.get("expired"):
        notice = "Your session ended. Please sign in again."
    elif request.query_params.get("signed_out"):
        notice = "You have signed out."
    response = render(
        "login.html",
        staff=None,
        zone=settings.dashboard_timezone,
        status_code=status_code,
        login_token=token,
        next_path=next_path or safe_next(request.query_params.get("next")),
        error=error,
        notice=notice,
    )
    _set_cookie(response, settings, login_cookie(settings), token)
    return response


@router.get(LOGIN_PATH)
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post(LOGIN_PATH)
async def login(request: Request) -> Response:
    runtime = runtime_of(request)
    settings = runtime.settings
    form = await request.form()
    # Sign-in forms are protected too (login CSRF): the field must match a cookie this
    # site set, which another site can neither read nor write.
    if not auth.tokens_match(request.cookies.get(login_cookie(settings), ""), field(form, "token")):
        raise csrf_refused()
    next_path = safe_next(field(form, "next"))
    username, password = field(form, "username"), field(form, "password")
    if not username.strip() or not password:
        return _login_page(
            request,
            status_code=400,
            error="Enter your username and password.",
            next_path=next_path,
        )
    result = await run_in_threadpool(
        auth.log_in,
        runtime.sessions,
        username=username,
        password=password,
        policy=policy(settings),
        now=now(),
    )
    if result.outcome is Outcome.LOCKED:
        minutes = int(settings.staff_login_window.total_seconds() // 60)
        return _login_page(
            request,
            status_code=429,
            error=f"Too many failed sign-ins for this username. Try again in {minutes} minutes, "
            "or ask an administrator.",
            next_path=next_path,
        )
    if result.outcome is Outcome.REFUSED or result.token is None:
        return _login_page(
            request,
            status_code=401,
            error="Username or password not recognised.",
            next_path=next_path,
        )
    response = RedirectResponse(next_path, status_code=303)
    _set_cookie(response, settings, session_cookie(settings), result.token)
    _clear_cookie(response, settings, login_cookie(settings))
    return response


@router.post(f"{PREFIX}/logout")
def logout(
    request: Request,
    staff: Annotated[Staff, Depends(current_staff)],
    _form: CheckedForm,
) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions.begin() as s:
        auth.log_out(s, staff=staff, now=now())
    response = RedirectResponse(f"{LOGIN_PATH}?{urlencode({'signed_out': 1})}", status_code=303)
    _clear_cookie(response, runtime.settings, session_cookie(runtime.settings))
    return response


async def on_login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    settings = runtime_of(request).settings
    params = {"next": safe_next(exc.next_path)}
    if exc.expired:
        params["expired"] = "1"
    response = RedirectResponse(f"{LOGIN_PATH}?{urlencode(params)}", status_code=303)
    if exc.expired:
        _clear_cookie(response, settings, session_cookie(settings))
    return response


async def on_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return render(
        "error.html",
        staff=exc.staff,
        zone=runtime_of(request).settings.dashboard_timezone,
        status_code=exc.status_code,
        title=exc.title,
        message=exc.message,
    )
