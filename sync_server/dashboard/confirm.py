"""Forms that change a record (retire a pack, revoke a device, disable an account): the page
that asks first, where there is one, and the posted form carried out in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from sync_server.dashboard.access import now
from sync_server.dashboard.auth import Staff
from sync_server.dashboard.templating import render
from sync_server.runtime import runtime_of

# Makes the change in the session at the instant given; answers the page to show after it.
Action = Callable[[Session, datetime], str]


def confirm_page(request: Request, staff: Staff, template: str, **context: Any) -> Response:
    """The page that says what the action will do, with its form (or why it cannot be done)."""
    zone = runtime_of(request).settings.dashboard_timezone
    return render(template, staff=staff, zone=zone, **context)


def carry_out(request: Request, action: Action) -> RedirectResponse:
    """The posted action, in one transaction at one instant; the page after it is reached
    by a redirect (303), so reloading it does not post the form again. A refusal `action`
    raises rolls the transaction back."""
    runtime = runtime_of(request)
    at = now()
    with runtime.sessions.begin() as s:
        target = action(s, at)
    return RedirectResponse(target, status_code=303)
