"""Pack downloads: resumed after a cut, verified before install, never older, never tampered."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import tenacity
from sqlalchemy import select

from content_packs import authoring, pack, signing
from kiosk_app.store import repos
from kiosk_app.sync import packs
from kiosk_app.sync.device import provisioned
from kiosk_app.sync.engine import Outcome
from kiosk_app.sync.packs import PACK_DIR, PARTIAL_DIR
from kiosk_app.sync.transport import RetryPolicy
from sync_server import models
from sync_server.services import packs as server_packs
from tests.support.live_server import LiveServer
from tests.support.world import PROGRAMME_ID, SAMPLE, World
from tests.sync.faults import Fault, FaultProxy
from tests.sync.kiosks import Kiosk

ONE_TRY = RetryPolicy(attempts=1, wait=tenacity.wait_none(), read_timeout=10.0)
PACK_REQUEST = b"GET /api/v1/packs/"


def _installed(kiosk: Kiosk) -> list[tuple[str, int]]:
    with kiosk.store.unit() as s:
        return [(p.pack_id, p.version) for p in repos.installed_packs(s)]


def _pack_files(kiosk: Kiosk) -> list[str]:
    return sorted(p.name for p in (kiosk.data_dir / PACK_DIR).glob("*.pack"))


def test_a_cut_download_resumes_where_it_stopped(
    server: LiveServer, world: World, make_kiosk: Callable[..., Kiosk]
) -> None:
    kiosk = make_kiosk(retry=ONE_TRY)
    cut = 40_000

    def plan(number: int) -> Fault:
        # The first connection that asks for a pack loses it after 40 kB.
        first = not any(r.startswith(PACK_REQUEST) for r in proxy.requests_seen)
        return Fault(reset_response_after=cut, cut_request=PACK_REQUEST) if first else Fault()

    with FaultProxy(server.port, plan=plan) as proxy:
        first = kiosk.enrol(proxy.url, world.code()).first_sync
        assert first.outcome is Outcome.FAILED
        assert first.stage is not None
        assert first.stage.value == "packs"
        partial = kiosk.data_dir / PACK_DIR / PARTIAL_DIR / f"{PROGRAMME_ID}-1.pack.part"
        kept = partial.stat().st_size
        assert 0 < kept <= cut
        with kiosk.store.unit() as s:
            entry = repos.catalogue_entry(s, pack_id=PROGRAMME_ID, version=1)
            assert entry is not None
            assert entry.partial_etag is not None
        assert _installed(kiosk) == []

        second = kiosk.engine.run_once(force=True)
        assert second.outcome is Outcome.SYNCED, second.error
        assert second.packs_installed == ((PROGRAMME_ID, 1),)
        downloads = [r for r in proxy.requests_seen if r.startswith(PACK_REQUEST)]
    assert len(downloads) == 2
    assert re.search(rb"(?i)\r\nrange: bytes=%d-\r\n" % kept, downloads[1])
    assert re.search(rb"(?i)\r\nif-range: \"", downloads[1])
    assert not partial.exists()
    assert kiosk.library.programme(pack_id=PROGRAMME_ID, version=1).id == PROGRAMME_ID


def _publish_version_2(world: World, tmp_path: Path) -> None:
    source = tmp_path / "v2-source"
    shutil.copytree(SAMPLE, source)
    toml = source / "pack.toml"
    toml.write_text(toml.read_text("utf-8").replace("version = 1", "version = 2", 1), "utf-8")
    built = pack.build(
        authoring.load_source(source),
        tmp_path / f"{PROGRAMME_ID}-2.pack",
        sign_key=world.publisher,
        recipients=[server_packs.escrow_recipient(world.settings)],
    )
    with world.sessions.begin() as s:
        server_packs.publish(
            s,
            world.settings,
            pack_path=built.pack_path,
            signature_text=built.signature_path.read_text("utf-8"),
            forces=None,
            now=datetime.now(UTC),
        )


def test_an_older_version_is_refused_unless_an_enrolment_here_needs_it(
    server: LiveServer, world: World, make_kiosk: Callable[..., Kiosk], tmp_path: Path
) -> None:
    _publish_version_2(world, tmp_path)
    kiosk = make_kiosk()
    first = kiosk.enrol(server.url, world.code()).first_sync
    assert first.ok, first.error
    assert _installed(kiosk) == [(PROGRAMME_ID, 2)]
    with kiosk.store.unit() as s:
        assert packs.refusal(s, pack_id=PROGRAMME_ID, version=1) == (
            "version 1 is older than the installed version 2"
        )
        offer = packs.offer_for(s, pack_id=PROGRAMME_ID, version=1)
        me = provisioned(s)
    assert offer is not None
    assert me is not None
    transport = kiosk.engine.transport(me)
    with pytest.raises(packs.PackRefusedError, match="older than the installed version 2"):
        packs.fetch_and_install(
            store=kiosk.store,
            transport=transport,
            offer=offer,
            identity=me.identity,
            publisher_keys=me.publisher_keys,
            now=kiosk.clock.now(),
        )
    transport.close()
    assert _installed(kiosk) == [(PROGRAMME_ID, 2)]
    assert _pack_files(kiosk) == [f"{PROGRAMME_ID}-2.pack"]

    # An enrolment assigned version 1 (its rules decide completion) needs that version.
    slip = kiosk.officer.register(
        first_name="Kim",
        force_reference="NC/7",
        programme_id=PROGRAMME_ID,
        disposal_type="community_resolution",
        due_date=date(2026, 4, 1),
    )
    with kiosk.store.unit() as s:
        enrolment = repos.enrolment(s, slip.enrolment_id)
        assert enrolment is not None
        enrolment.programme_version = 1
    with kiosk.store.unit() as s:
        assert packs.refusal(s, pack_id=PROGRAMME_ID, version=1) is None


def _tamper_server_file(world: World) -> None:
    with world.sessions() as s:
        release = s.scalars(select(models.PackRelease)).one()
        path = world.settings.pack_dir / release.path
        offset = release.payload_offset + release.payload_size // 2
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _distrust_publisher(kiosk: Kiosk) -> None:
    with kiosk.store.unit() as s:
        device = repos.device(s)
        device.publisher_keys = [signing.SecretKey.generate().public_key.to_base64()]
        for installed in repos.installed_packs(s):
            (kiosk.data_dir / installed.path).unlink()
            s.delete(installed)


@pytest.mark.parametrize(
    ("spoil_before_enrolment", "spoil_after_enrolment", "problem"),
    [
        (_tamper_server_file, None, "the payload does not match the catalogue's SHA-256"),
        (None, _distrust_publisher, "the manifest is not signed by a trusted publisher"),
    ],
    ids=["payload-flipped", "unknown-publisher"],
)
def test_a_tampered_or_untrusted_pack_is_refused_and_nothing_is_installed(
    server: LiveServer,
    world: World,
    make_kiosk: Callable[..., Kiosk],
    spoil_before_enrolment: Callable[[World], None] | None,
    spoil_after_enrolment: Callable[[Kiosk], None] | None,
    problem: str,
) -> None:
    if spoil_before_enrolment is not None:
        spoil_before_enrolment(world)
    kiosk = make_kiosk()
    result = kiosk.enrol(server.url, world.code()).first_sync
    if spoil_after_enrolment is not None:
        spoil_after_enrolment(kiosk)
        result = kiosk.engine.run_once()
    assert result.outcome is Outcome.SYNCED  # the rest of the sync went on
    assert result.packs_refused == ((PROGRAMME_ID, 1, problem),)
    assert _installed(kiosk) == []
    assert _pack_files(kiosk) == []
    assert list((kiosk.data_dir / PACK_DIR / PARTIAL_DIR).iterdir()) == []
    with kiosk.store.unit() as s:
        entry = repos.catalogue_entry(s, pack_id=PROGRAMME_ID, version=1)
        assert entry is not None
        assert entry.problem == problem
    assert problem in (kiosk.engine.status().last_error or "")
