"""Enrolment: keys made and kept encrypted, publisher keys pinned, the first sync run."""

from __future__ import annotations

from collections.abc import Callable

from kiosk_app.store import repos
from kiosk_app.sync.engine import Outcome
from kiosk_app.sync.packs import PACK_DIR
from sync_server import models
from tests.support.live_server import LiveServer
from tests.support.world import PROGRAMME_ID, World
from tests.sync.kiosks import Kiosk


def test_enrol_pins_the_server_and_installs_the_offered_pack(
    server: LiveServer, world: World, make_kiosk: Callable[..., Kiosk]
) -> None:
    kiosk = make_kiosk()
    enrolled = kiosk.enrol(server.url, world.code("north-custody"))
    assert enrolled.first_sync.outcome is Outcome.SYNCED, enrolled.first_sync.error
    assert enrolled.first_sync.packs_installed == ((PROGRAMME_ID, 1),)
    with kiosk.store.unit() as s:
        device = repos.device(s)
        assert device.device_id == enrolled.device_id
        assert device.server_url == server.url
        assert (device.force_id, device.site_id) == ("north", "north-custody")
        assert device.publisher_keys == [world.publisher.public_key.to_base64()]
        assert device.ed25519_private_key is not None
        assert repos.installed_pack(s, pack_id=PROGRAMME_ID, version=1) is not None
    with world.sessions() as s:
        stored = s.get(models.Device, enrolled.device_id)
        assert stored is not None
    assert (kiosk.data_dir / PACK_DIR / f"{PROGRAMME_ID}-1.pack").is_file()
    programme = kiosk.library.programme(pack_id=PROGRAMME_ID, version=1)
    assert programme.id == PROGRAMME_ID
