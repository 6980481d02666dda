"""Rendering: the Jinja2 environment, the navigation later pages slot into, and page helpers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2
from starlette.responses import HTMLResponse

from sync_server.dashboard.auth import Staff
from sync_server.models import Role

PREFIX = "/dashboard"
ALL_ROLES = frozenset(Role)
# Who may read participant records: content staff publish packs and see only aggregates.
CASEWORK_ROLES = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMIN})
ADMIN_ROLES = frozenset({Role.ADMIN})
# Who may take records away in bulk (exports), and who publishes content packs.
EXPORT_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
CONTENT_ROLES = frozenset({Role.CONTENT, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    path: str
    roles: frozenset[Role]


# The base layout's navigation, in order. Later pages (review queue, deadlines, outcomes,
# certificates, exports, devices, content, staff) append an item here and a router in mount.
NAV: list[NavItem] = [
    NavItem("Overview", f"{PREFIX}/", ALL_ROLES),
    NavItem("Participants", f"{PREFIX}/participants", CASEWORK_ROLES),
    NavItem("Review queue", f"{PREFIX}/review", CASEWORK_ROLES),
    NavItem("Deadlines", f"{PREFIX}/deadlines", CASEWORK_ROLES),
    NavItem("Outcomes", f"{PREFIX}/outcomes", CASEWORK_ROLES),
    NavItem("Evaluation", f"{PREFIX}/evaluation", ALL_ROLES),
    NavItem("Completion records", f"{PREFIX}/certificates", CASEWORK_ROLES),
    NavItem("Exports", f"{PREFIX}/exports", EXPORT_ROLES),
    NavItem("Devices", f"{PREFIX}/devices", CASEWORK_ROLES),
    NavItem("Content", f"{PREFIX}/content", CONTENT_ROLES),
    NavItem("Staff", f"{PREFIX}/staff", ADMIN_ROLES),
    NavItem("Audit log", f"{PREFIX}/audit", ADMIN_ROLES),
]


def nav_for(staff: Staff) -> list[NavItem]:
    return [item for item in NAV if staff.role in item.roles]


def _local(value: datetime | None, zone: str) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(zone)).strftime("%d %b %Y %H:%M:%S %Z")


def _day(value: date | None) -> str:
    return "" if value is None else value.strftime("%d %b %Y")


def _query(params: Mapping[str, object], **changes: object) -> str:
    """The query string of `params` with `changes`, dropping empty values (for links)."""
    merged = {**params, **changes}
    return urlencode({k: str(v) for k, v in merged.items() if v not in (None, "")})


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sync_server.dashboard", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["day"] = _day
    env.globals["query"] = _query
    env.globals["prefix"] = PREFIX
    return env


def render(
    template: str,
    *,
    staff: Staff | None,
    zone: str,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page in the base layout; `staff` None for pages shown before sign-in."""
    env = environment()
    html = env.get_template(template).render(
        staff=staff,
        nav=nav_for(staff) if staff is not None else [],
        local=lambda value: _local(value, zone),
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
