"""What part of the scheme a staff member sees: their own force, or all of it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, true

from sync_server.dashboard.auth import Staff


def force_filter(staff: Staff, column: Any) -> ColumnElement[bool]:
    """A WHERE clause limiting `column` (a force id) to what `staff` may see."""
    if staff.force_id is None:
        return true()
    result: ColumnElement[bool] = column == staff.force_id
    return result


def may_see_force(staff: Staff, force_id: str | None) -> bool:
    return staff.force_id is None or staff.force_id == force_id
