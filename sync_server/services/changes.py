"""The change log: every change a device may need to pull, in commit order."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from sync_server import models


def record_change(
    s: Session,
    *,
    kind: models.ChangeKind,
    entity_id: str,
    force_id: str | None,
    site_id: str | None,
    at: datetime,
    op: str = "upsert",
) -> None:
    """Append a change; `site_id=None` reaches every site of the force."""
    s.add(
        models.Change(
            kind=kind, entity_id=entity_id, force_id=force_id, site_id=site_id, op=op, at=at
        )
    )
