"""What the officer console shows about sync: when it last worked, what waits, what failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from kiosk_app.store import repos
from kiosk_app.store.db import Store
from kiosk_app.store.models import JournalEvent


@dataclass(frozen=True, slots=True)
class SyncStatus:
    provisioned: bool
    device_id: str | None
    server_url: str | None
    force_name: str | None
    site_name: str | None
    last_success_at: datetime | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None  # set while backing off after failures
    events_waiting: int
    packs: tuple[tuple[str, int], ...]  # installed (pack id, version)
    last_error: str | None  # plain words, or None when the last sync went well
    syncing: bool


def read_status(store: Store, *, syncing: bool = False) -> SyncStatus:
    with store.unit() as s:
        device = repos.device(s)
        state = repos.sync_state(s)
        waiting = s.scalar(
            select(func.count()).select_from(JournalEvent).where(JournalEvent.acked_at.is_(None))
        )
        packs = tuple((p.pack_id, p.version) for p in repos.installed_packs(s))
        return SyncStatus(
            provisioned=device.device_id is not None,
            device_id=device.device_id,
            server_url=device.server_url,
            force_name=device.force_name,
            site_name=device.site_name,
            last_success_at=state.last_success_at,
            last_attempt_at=state.last_attempt_at,
            next_attempt_at=state.next_attempt_at,
            events_waiting=int(waiting or 0),
            packs=packs,
            last_error=state.last_error,
            syncing=syncing,
        )
