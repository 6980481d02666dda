"""A revoked device hears 401 with wipe, erases everything of anyone, and is unprovisioned."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from kiosk_app.store import repos
from kiosk_app.store.models import (
    CatalogueEntry,
    Enrolment,
    InstalledPack,
    JournalEvent,
    Participant,
    ResumePointer,
)
from kiosk_app.sync.engine import Outcome
from kiosk_app.sync.packs import PACK_DIR
from sync_server import models
from tests.support.live_server import LiveServer
from tests.support.world import PROGRAMME_ID, World
from tests.sync.kiosks import Kiosk, do_step


def test_revocation_wipes_participants_journal_packs_and_keys(
    server: LiveServer, world: World, make_kiosk: Callable[..., Kiosk]
) -> None:
    kiosk = make_kiosk()
    enrolled = kiosk.enrol(server.url, world.code())
    assert enrolled.first_sync.ok
    slip = kiosk.officer.register(
        first_name="Zanzibarina",
        force_reference="NC/5",
        programme_id=PROGRAMME_ID,
        disposal_type="community_resolution",
        due_date=date(2026, 4, 1),
    )
    assert kiosk.session.sign_in(access_code=slip.access_code, pin=slip.temporary_pin).ok
    do_step(kiosk.session.open_enrolment(enrolment_id=slip.enrolment_id), kiosk.clock)
    kiosk.session.take_a_break()
    kiosk.library.close()
    with world.sessions.begin() as s:
        s.get_one(models.Device, enrolled.device_id).revoked_at = datetime.now(UTC)

    result = kiosk.engine.run_once()
    assert result.outcome is Outcome.WIPED
    with kiosk.store.unit() as s:
        for table in (Participant, Enrolment, JournalEvent, ResumePointer, InstalledPack):
            assert s.scalar(select(func.count()).select_from(table)) == 0, table.__name__
        assert s.scalar(select(func.count()).select_from(CatalogueEntry)) == 0
        device = repos.device(s)
        assert device.device_id is None
        assert device.ed25519_private_key is None
        assert device.x25519_identity is None
        assert device.publisher_keys == []
    assert not (kiosk.data_dir / PACK_DIR).exists()
    status = kiosk.engine.status()
    assert not status.provisioned
    assert status.events_waiting == 0
    assert kiosk.engine.run_once().outcome is Outcome.NOT_ENROLLED
    # Nothing of the participant is left in the database file either (vacuumed, encrypted).
    raw = kiosk.store.path.read_bytes()
    assert b"Zanzibarina" not in raw
    # And the kiosk can be enrolled afresh.
    again = kiosk.enrol(server.url, world.code())
    assert again.first_sync.ok
    assert again.device_id != enrolled.device_id
