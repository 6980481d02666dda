"""Revocation: erase participant data, the journal, packs and the device keys."""

from __future__ import annotations

import logging
import shutil

from sqlalchemy import delete

from kiosk_app.store import repos
from kiosk_app.store.db import Store
from kiosk_app.store.models import (
    CatalogueEntry,
    Counter,
    Draft,
    Enrolment,
    InstalledPack,
    JournalEvent,
    Officer,
    Participant,
    ResumePointer,
    ReviewVerdict,
    SyncState,
)
from kiosk_app.sync.packs import PACK_DIR

log = logging.getLogger(__name__)


def wipe(store: Store) -> None:
    """Return the kiosk to unprovisioned: nothing of any participant, no keys, no packs.

    Settings stay (they hold nobody's data). The database is vacuumed afterwards, so the
    deleted rows do not linger in free pages either.
    """
    with store.unit() as s:
        for table in (
            Draft,
            ResumePointer,
            ReviewVerdict,
            Enrolment,
            Participant,
            Officer,
            JournalEvent,
            Counter,
            InstalledPack,
            CatalogueEntry,
            SyncState,
        ):
            s.execute(delete(table))
        device = repos.device(s)
        device.device_id = None
        device.ed25519_private_key = None
        device.x25519_identity = None
        device.server_url = None
        device.force_id = device.force_name = None
        device.site_id = device.site_name = None
        device.access_code_prefix = None
        device.publisher_keys = []
    shutil.rmtree(store.data_dir / PACK_DIR, ignore_errors=True)
    with store.engine.connect() as connection:
        # VACUUM cannot run in a transaction: straight to the driver, outside SQLAlchemy's.
        connection.connection.driver_connection.execute("VACUUM")  # type: ignore[union-attr]
    log.warning("this device was revoked: local data, keys and packs erased")
