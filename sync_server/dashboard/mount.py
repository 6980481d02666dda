"""Wiring the dashboard into the server's application: routes, static files, headers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync_server.api.limits import PATH_LIMITS
from sync_server.dashboard import (
    access,
    certificate_pages,
    content,
    devices,
    exports,
    outcome_pages,
    pages,
    review_pages,
    staff,
)
from sync_server.dashboard.templating import PREFIX

STATIC_PATH = f"{PREFIX}/static"
# No script at all, styles only from this origin, forms only back to it, never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


class SecurityHeaders:
    """Adds the dashboard's security headers; pages (not the stylesheet) are never cached,
    so a participant's record does not linger in a shared browser's cache."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == "/" or path == PREFIX or path.startswith(f"{PREFIX}/")):
            await self.app(scope, receive, send)
            return
        static = path.startswith(f"{STATIC_PATH}/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if not static:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: FastAPI) -> None:
    """Serve the staff dashboard under /dashboard (kept out of the device API's OpenAPI)."""
    app.include_router(access.router)
    app.include_router(pages.router)
    app.include_router(review_pages.router)
    app.include_router(outcome_pages.router)
    app.include_router(certificate_pages.router)
    app.include_router(exports.router)
    app.include_router(devices.router)
    app.include_router(content.router)
    app.include_router(staff.router)
    # Uploads (certificates to check, content packs) may be larger than other bodies.
    PATH_LIMITS.update(certificate_pages.BODY_LIMITS)
    PATH_LIMITS.update(content.BODY_LIMITS)
    app.mount(
        STATIC_PATH,
        StaticFiles(directory=Path(__file__).parent / "static"),
        name="dashboard-static",
    )
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(access.LoginRequired, access.on_login_required)
    app.add_exception_handler(access.Refused, access.on_refused)
