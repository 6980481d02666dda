"""Pack publishing and per-device downloads with ETag and Range, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import shutil
import stat
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from content_packs import age, authoring, pack, signing
from content_packs.pack import Pack
from sync_server import models
from sync_server.api.packs import Unsatisfiable, if_range_allows, none_match, parse_range
from sync_server.db import SessionFactory
from sync_server.services import packs
from sync_server.settings import Settings
from tests.support.device import TestDevice
from tests.support.live_server import LiveServer
from tests.support.world import PROGRAMME_ID, SAMPLE, World, make_world

BASE = "http://testserver"
URL = f"/api/v1/packs/{PROGRAMME_ID}/1"


@pytest.fixture
def world(settings: Settings, sessions: SessionFactory, tmp_path: Path) -> World:
    return make_world(settings, sessions, tmp_path)


def _device(client: httpx2.Client, world: World, site: str, base: str = BASE) -> TestDevice:
    device = TestDevice(client, base, name=f"Kiosk at {site}")
    device.enrol(world.code(site))
    return device


@pytest.fixture
def kiosk(client: TestClient, world: World) -> TestDevice:
    return _device(client, world, "north-custody")


def get(device: TestDevice, path: str = URL, **headers: str) -> httpx2.Response:
    return device.send(device.signed("GET", path, headers=headers))


def _release(world: World, version: int = 1) -> models.PackRelease:
    with world.sessions() as s:
        return packs.get_release(s, pack_id=PROGRAMME_ID, version=version)


def _opens_for(device: TestDevice, world: World, data: bytes, tmp_path: Path) -> Pack:
    path = tmp_path / f"{device.device_id}.pack"
    path.write_bytes(data)
    return Pack.open(
        path,
        identities=[device.identity],
        public_key=world.publisher.public_key,
        signature=_release(world).signature,
    )


def _build_version(world: World, tmp_path: Path, version: int) -> tuple[Path, str]:
    """The sample programme under another version number, built for the escrow key."""
    source = tmp_path / f"source-{version}"
    shutil.copytree(SAMPLE, source)
    toml = source / "pack.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("version = 1", f"version = {version}", 1),
        encoding="utf-8",
    )
    result = pack.build(
        authoring.load_source(source),
        tmp_path / f"{PROGRAMME_ID}-{version}.pack",
        sign_key=world.publisher,
        recipients=[packs.escrow_recipient(world.settings)],
    )
    return result.pack_path, result.signature_path.read_text(encoding="utf-8")


def _publish(world: World, path: Path, signature: str, forces: list[str] | None) -> None:
    with world.sessions.begin() as s:
        packs.publish(
            s,
            world.settings,
            pack_path=path,
            signature_text=signature,
            forces=forces,
            now=datetime.now(UTC),
        )


# --- downloads ---------------------------------------------------------------------------


def test_full_download_opens_with_the_devices_identity(
    kiosk: TestDevice, world: World, tmp_path: Path
) -> None:
    response = get(kiosk)
    assert response.status_code == 200, response.text
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-type"] == "application/octet-stream"
    assert int(response.headers["content-length"]) == len(response.content)
    with _opens_for(kiosk, world, response.content, tmp_path) as opened:
        opened.verify()
        assert opened.programme.id == PROGRAMME_ID


def test_payload_is_shared_and_header_is_per_device(
    client: TestClient, kiosk: TestDevice, world: World, tmp_path: Path
) -> None:
    other = _device(client, world, "north-library")
    mine, theirs = get(kiosk).content, get(other).content
    release = _release(world)
    assert mine[-release.payload_size :] == theirs[-release.payload_size :]
    assert mine[: -release.payload_size] != theirs[: -release.payload_size]
    # A copied pack is useless on another device.
    with pytest.raises(pack.PackDecryptionError):
        _opens_for(other, world, mine, tmp_path)


def test_etag_is_stable_per_device_and_differs_between_devices(
    client: TestClient, kiosk: TestDevice, world: World
) -> None:
    other = _device(client, world, "north-custody")
    first, again = get(kiosk), get(kiosk)
    assert first.headers["etag"] == again.headers["etag"]
    assert first.content == again.content
    assert first.headers["etag"].startswith('"')
    assert get(other).headers["etag"] != first.headers["etag"]


def test_resume_with_range_gives_the_same_bytes(kiosk: TestDevice) -> None:
    whole = get(kiosk)
    etag = whole.headers["etag"]
    cut = 1000
    head = get(kiosk, Range=f"bytes=0-{cut - 1}")
    assert head.status_code == 206
    assert head.headers["content-range"] == f"bytes 0-{cut - 1}/{len(whole.content)}"
    rest = get(kiosk, Range=f"bytes={cut}-", **{"If-Range": etag})
    assert rest.status_code == 206
    assert rest.headers["content-range"] == (
        f"bytes {cut}-{len(whole.content) - 1}/{len(whole.content)}"
    )
    assert head.content + rest.content == whole.content


def test_download_cut_mid_stream_resumes_on_a_live_server(
    world: World, live_server: LiveServer, tmp_path: Path
) -> None:
    with httpx2.Client(timeout=10) as http:
        device = _device(http, world, "north-custody", base=live_server.url)
        received = bytearray()
        request = device.signed("GET", URL)
        with http.stream(request.method, request.url, headers=request.headers) as response:
            assert response.status_code == 200
            size = int(response.headers["content-length"])
            etag = response.headers["etag"]
            for chunk in response.iter_bytes(4096):
                received += chunk
                if len(received) >= 8192:
                    break  # the connection drops here
        assert len(received) < size
        rest = get(device, Range=f"bytes={len(received)}-", **{"If-Range": etag})
        assert rest.status_code == 206
        received += rest.content
    assert len(received) == size
    with _opens_for(device, world, bytes(received), tmp_path) as opened:
        opened.verify()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", (0, 0)),
        ("bytes=10-19", (10, 19)),
        ("bytes=-100", (-100, None)),
        ("bytes=5-", (5, None)),
        ("bytes=0-999999999", (0, None)),
    ],
)
def test_range_forms(kiosk: TestDevice, header: str, expected: tuple[int, int | None]) -> None:
    whole = get(kiosk).content
    size = len(whole)
    first = expected[0] if expected[0] >= 0 else size + expected[0]
    last = size - 1 if expected[1] is None else expected[1]
    response = get(kiosk, Range=header)
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {first}-{last}/{size}"
    assert response.content == whole[first : last + 1]


def test_unsatisfiable_range_is_416_with_the_size(kiosk: TestDevice) -> None:
    size = len(get(kiosk).content)
    response = get(kiosk, Range=f"bytes={size}-")
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{size}"
    assert response.json()["error"] == "range_not_satisfiable"


def test_if_range_with_another_etag_sends_the_whole_pack(kiosk: TestDevice) -> None:
    whole = get(kiosk).content
    response = get(kiosk, Range="bytes=100-", **{"If-Range": '"stale-etag"'})
    assert response.status_code == 200
    assert response.content == whole


def test_if_none_match_gives_304(kiosk: TestDevice) -> None:
    etag = get(kiosk).headers["etag"]
    response = get(kiosk, **{"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert get(kiosk, **{"If-None-Match": '"other"'}).status_code == 200


def test_head_gives_headers_without_a_body(kiosk: TestDevice) -> None:
    whole = get(kiosk)
    response = kiosk.send(kiosk.signed("HEAD", URL))
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["etag"] == whole.headers["etag"]
    assert int(response.headers["content-length"]) == len(whole.content)


def test_unsigned_request_is_401(client: TestClient, world: World) -> None:
    assert client.get(URL).status_code == 401


def test_another_forces_pack_is_404(
    kiosk: TestDevice, client: TestClient, world: World, tmp_path: Path
) -> None:
    path, signature = _build_version(world, tmp_path, 2)
    _publish(world, path, signature, ["south"])
    response = get(kiosk, f"/api/v1/packs/{PROGRAMME_ID}/2")
    assert response.status_code == 404
    assert response.json()["error"] == "pack_not_found"
    southern = _device(client, world, "south-custody")
    assert get(southern, f"/api/v1/packs/{PROGRAMME_ID}/2").status_code == 200


@pytest.mark.parametrize("path", [f"/api/v1/packs/{PROGRAMME_ID}/9", "/api/v1/packs/other/1"])
def test_unknown_pack_is_404(kiosk: TestDevice, path: str) -> None:
    response = get(kiosk, path)
    assert response.status_code == 404
    assert response.json()["error"] == "pack_not_found"


def test_retired_pack_is_404_and_announced(kiosk: TestDevice, world: World) -> None:
    assert get(kiosk).status_code == 200
    with world.sessions.begin() as s:
        packs.retire(s, pack_id=PROGRAMME_ID, version=1, now=datetime.now(UTC))
    response = get(kiosk)
    assert response.status_code == 404
    assert response.json()["error"] == "pack_not_found"
    with world.sessions() as s:
        kinds = s.scalars(
            select(models.Change.force_id).where(
                models.Change.kind == models.ChangeKind.REVOCATION,
                models.Change.entity_id == f"{PROGRAMME_ID}:1",
            )
        )
        assert sorted(k or "" for k in kinds) == ["north", "south"]


# --- publishing --------------------------------------------------------------------------


def test_publish_stores_the_file_release_catalogue_and_changes(world: World) -> None:
    release = _release(world)
    stored = world.settings.pack_dir / f"{PROGRAMME_ID}-1.pack"
    assert packs.release_file(world.settings, release) == stored
    assert stored.read_bytes() == world.pack_path.read_bytes()
    assert release.payload_offset + release.payload_size == stored.stat().st_size
    assert release.manifest["programme"]["id"] == PROGRAMME_ID
    assert release.publisher_key_id == world.publisher.public_key.key_id_hex
    with world.sessions() as s:
        assert packs.release_forces(s, release) == ["north", "south"]
        changes = s.scalars(
            select(models.Change).where(models.Change.kind == models.ChangeKind.CATALOGUE)
        ).all()
        assert sorted((c.force_id, c.site_id, c.entity_id) for c in changes) == [
            ("north", None, f"{PROGRAMME_ID}:1"),
            ("south", None, f"{PROGRAMME_ID}:1"),
        ]
    assert not [p for p in world.settings.pack_dir.iterdir() if p.name.startswith(".tmp")]


def test_publishing_the_same_version_again_is_refused(world: World) -> None:
    signature = pack.signature_path_for(world.pack_path).read_text(encoding="utf-8")
    with pytest.raises(packs.PackServiceError, match="version 1 is already published"):
        _publish(world, world.pack_path, signature, None)


def test_publishing_an_older_version_is_refused(world: World, tmp_path: Path) -> None:
    _publish(world, *_build_version(world, tmp_path, 3), None)
    with pytest.raises(packs.PackServiceError, match="older than the published version 3"):
        _publish(world, *_build_version(world, tmp_path, 2), None)


def test_publish_refuses_an_untrusted_publisher(world: World, tmp_path: Path) -> None:
    stranger = signing.SecretKey.generate()
    result = pack.build(
        authoring.load_source(SAMPLE),
        tmp_path / "stranger.pack",
        sign_key=stranger,
        recipients=[packs.escrow_recipient(world.settings)],
    )
    with pytest.raises(packs.PackServiceError, match="not a trusted publisher key"):
        _publish(world, result.pack_path, result.signature_path.read_text(), None)


def test_publish_refuses_a_pack_not_built_for_the_escrow_key(world: World, tmp_path: Path) -> None:
    result = pack.build(
        authoring.load_source(SAMPLE),
        tmp_path / "elsewhere.pack",
        sign_key=world.publisher,
        recipients=[age.X25519Identity.generate().recipient],
    )
    with pytest.raises(packs.PackServiceError, match="pack refused"):
        _publish(world, result.pack_path, result.signature_path.read_text(), None)


def test_publish_refuses_a_tampered_pack(world: World, tmp_path: Path) -> None:
    path, signature = _build_version(world, tmp_path, 2)
    data = bytearray(path.read_bytes())
    data[-100] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(packs.PackServiceError, match="pack refused"):
        _publish(world, path, signature, None)
    assert not (world.settings.pack_dir / f"{PROGRAMME_ID}-2.pack").exists()


def test_publish_to_named_forces_only(world: World, tmp_path: Path) -> None:
    path, signature = _build_version(world, tmp_path, 2)
    _publish(world, path, signature, ["south"])
    with world.sessions() as s:
        assert packs.release_forces(s, _release(world, 2)) == ["south"]
    path, signature = _build_version(world, tmp_path, 3)
    with pytest.raises(packs.PackServiceError, match="unknown force 'west'"):
        _publish(world, path, signature, ["west"])


def test_device_header_is_made_once_and_reused(
    kiosk: TestDevice, world: World, settings: Settings
) -> None:
    release = _release(world)
    with world.sessions.begin() as s:
        device = s.get(models.Device, kiosk.device_id)
        assert device is not None
        first = packs.device_header(s, settings, device=device, release=release)
    with world.sessions.begin() as s:
        device = s.get(models.Device, kiosk.device_id)
        assert device is not None
        assert packs.device_header(s, settings, device=device, release=release) == first
        stored = s.scalars(select(models.PackHeader)).all()
        assert [(h.device_id, h.pack) for h in stored] == [(kiosk.device_id, release.id)]
    header = age.read_header(io.BytesIO(first))
    assert age.unwrap_file_key(header, [kiosk.identity])


# --- keys --------------------------------------------------------------------------------


def test_escrow_identity_is_private_and_stable(settings: Settings) -> None:
    first = packs.load_or_create_escrow_identity(settings)
    mode = stat.S_IMODE(settings.escrow_identity_path.stat().st_mode)
    assert mode == 0o600
    assert packs.load_or_create_escrow_identity(settings).recipient == first.recipient
    assert [p.name for p in settings.escrow_identity_path.parent.iterdir()] == ["escrow.key"]


def test_publisher_keys_are_added_once(settings: Settings) -> None:
    key = signing.SecretKey.generate().public_key
    assert packs.publisher_keys(settings) == []
    packs.add_publisher_key(settings, key.to_str())
    packs.add_publisher_key(settings, key.to_str())
    assert packs.publisher_keys(settings) == [key]
    with pytest.raises(packs.PackServiceError, match="not a minisign public key"):
        packs.add_publisher_key(settings, "hello")


# --- the HTTP rules on their own ---------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("bytes=0-49", 100, (0, 49)),
        ("bytes=50-", 100, (50, 99)),
        ("bytes=-10", 100, (90, 99)),
        ("bytes=-1000", 100, (0, 99)),
        ("bytes=90-200", 100, (90, 99)),
        ("bytes=20-10", 100, None),
        ("bytes=0-1,5-9", 100, None),
        ("items=0-1", 100, None),
        ("bytes=-", 100, None),
        ("bytes=abc", 100, None),
    ],
)
def test_parse_range(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=100-", 100), ("bytes=-0", 100)])
def test_parse_range_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, size)


@pytest.mark.parametrize(
    ("header", "matches"),
    [('"a-b"', True), ('W/"a-b"', True), ('"x", "a-b"', True), ("*", True), ('"x"', False)],
)
def test_if_none_match(header: str, matches: bool) -> None:
    assert none_match(header, '"a-b"') is matches


@pytest.mark.parametrize(
    ("header", "allows"),
    [(None, True), ('"a-b"', True), ('W/"a-b"', False), ("Wed, 21 Oct 2015 07:28:00 GMT", False)],
)
def test_if_range(header: str | None, allows: bool) -> None:
    assert if_range_allows(header, '"a-b"') is allows
