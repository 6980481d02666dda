"""`kiosk-app enrol --server URL --code CODE [--data-dir DIR]`: scripted provisioning.

`kiosk_app.cli` parses the command line and calls `enrol` here. It prints the device id,
force, site and the first sync's outcome; never a key or a code.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kiosk_app.app import KeyStoreChoice, key_store_for
from kiosk_app.core.clock import SystemClock
from kiosk_app.store.db import open_store
from kiosk_app.sync.engine import SyncEngine
from kiosk_app.sync.enrol import AlreadyEnrolledError
from kiosk_app.sync.enrol import enrol as enrol_device
from kiosk_app.sync.transport import SyncError


class EnrolError(Exception):
    """Enrolment was refused or the server could not be reached (one plain line)."""


def enrol(
    data_dir: Path, key_store: KeyStoreChoice, server_url: str, code: str, device_name: str
) -> int:
    """Enrol the kiosk under `data_dir` and run its first sync; the exit status.

    A refusal or an unreachable server raises `EnrolError`, the store's own errors pass
    through: the command prints either as one line.
    """
    store = open_store(data_dir, key_store=key_store_for(data_dir, key_store))
    try:
        engine = SyncEngine(store=store, clock=SystemClock())
        done = enrol_device(
            store=store, engine=engine, server_url=server_url, code=code, device_name=device_name
        )
    except (AlreadyEnrolledError, SyncError, ValueError) as exc:
        raise EnrolError(str(exc)) from exc
    finally:
        store.close()
    print(f"enrolled: device {done.device_id}")
    print(f"force: {done.force_name}; site: {done.site_name}")
    print(f"access codes: {done.access_code_prefix}-nnnnn")
    first = done.first_sync
    print(f"first sync: {first.outcome.value}")
    for pack_id, pack_version in first.packs_installed:
        print(f"installed: {pack_id} v{pack_version}")
    if first.error:
        print(f"problem: {first.error}", file=sys.stderr)
    return 0
