"""The content pages: a signed pack uploaded, verified and published to forces, its outline,
publishing to more forces and retiring; a bad pack or signature leaves nothing behind."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from content_packs import authoring, pack, signing
from sync_server.db import SessionFactory
from sync_server.models import AuditEntry, PackRelease
from sync_server.services import packs
from sync_server.settings import Settings
from tests.dashboard.pages import table, text
from tests.dashboard.scheme import Scheme, signed_in
from tests.support.device import TestDevice
from tests.support.world import SAMPLE, World


@dataclasses.dataclass(frozen=True)
class Built:
    pack: bytes
    signature: bytes


def build(
    world: World,
    tmp_path: Path,
    *,
    version: int,
    key: signing.SecretKey | None = None,
    extra_bytes: int = 0,
) -> Built:
    """The sample programme as version `version`, built for the server as a publisher would
    (with an extra member of `extra_bytes` random bytes, to make it larger)."""
    loaded = authoring.load_source(SAMPLE)
    members = dict(loaded.members)
    if extra_bytes:
        extra = tmp_path / "extra.bin"
        extra.write_bytes(os.urandom(extra_bytes))
        members["media/extra.bin"] = extra
    source = dataclasses.replace(
        loaded,
        programme=loaded.programme.model_copy(update={"version": version}),
        members=members,
    )
    out = tmp_path / f"upload-{version}.pack"
    pack.build(
        source,
        out,
        sign_key=key or world.publisher,
        recipients=[packs.escrow_recipient(world.settings)],
    )
    return Built(out.read_bytes(), pack.signature_path_for(out).read_bytes())


@pytest.fixture
def v2(world: World, tmp_path: Path) -> Built:
    return build(world, tmp_path, version=2)


def upload(
    client: TestClient,
    csrf: str,
    built: Built,
    forces: list[str],
    *,
    signature: bytes | None = None,
) -> tuple[int, str]:
    response = client.post(
        "/dashboard/content/upload",
        data={"csrf_token": csrf, "forces": forces},
        files={
            "pack": ("alcohol-and-you-2.pack", built.pack, "application/octet-stream"),
            "signature": (
                "alcohol-and-you-2.pack.minisig",
                built.signature if signature is None else signature,
                "text/plain",
            ),
        },
    )
    return response.status_code, response.headers.get("location", response.text)


def nothing_written(sessions: SessionFactory, settings: Settings) -> None:
    with sessions() as s:
        versions = s.scalars(select(PackRelease.version)).all()
    assert versions == [1]
    assert sorted(p.name for p in settings.pack_dir.iterdir()) == ["alcohol-and-you-1.pack"]
    assert list((settings.data_dir / "uploads").glob("*")) == []


def catalogue(kiosk: TestDevice) -> set[str]:
    return {c.id for c in kiosk.pull_all() if c.kind == "catalogue"}


def test_an_uploaded_pack_is_published_to_the_users_force_with_its_outline(
    client: TestClient, scheme: Scheme, v2: Built, sessions: SessionFactory
) -> None:
    csrf = signed_in(client, "north.content")

    status, location = upload(client, csrf, v2, ["north"])

    assert status == 303
    assert location == "/dashboard/content/alcohol-and-you/2?published=1"
    page = client.get(location).text
    assert "Published." in page
    outline = table(page, "outline")
    programme = authoring.load_source(SAMPLE).programme
    assert [row[1] for row in outline] == [
        s.title + ("" if s.required else " (optional)") for s in programme.all_steps()
    ]
    assert [row[2] for row in outline] == [s.type for s in programme.all_steps()]
    assert outline[0][0] == programme.modules[0].title
    assert text(page.split('data-testid="release-forces">', 1)[1].split("<", 1)[0]) == "north"
    assert "alcohol-and-you:2" in catalogue(scheme.north_kiosk)
    assert "alcohol-and-you:2" not in catalogue(scheme.south_kiosk)
    with sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "pack.published")).all()
    assert [(e.actor, e.subject) for e in entry][-1] == ("north.content", "alcohol-and-you:2")


def test_a_pack_larger_than_other_request_bodies_is_accepted(
    client: TestClient, scheme: Scheme, world: World, tmp_path: Path
) -> None:
    csrf = signed_in(client, "north.content")
    large = build(world, tmp_path, version=2, extra_bytes=1024 * 1024)
    assert len(large.pack) > 1024 * 1024  # far over the 64 KiB other bodies may have

    status, location = upload(client, csrf, large, ["north"])

    assert status == 303
    assert location.startswith("/dashboard/content/alcohol-and-you/2")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("signature", "Pack refused: "),
        ("pack", "Pack refused: "),
        ("not text", "not a minisign signature (not text)"),
        ("garbage", "Not a minisign signature"),
    ],
)
def test_a_damaged_upload_is_refused_clearly_and_leaves_nothing(
    client: TestClient,
    scheme: Scheme,
    v2: Built,
    sessions: SessionFactory,
    settings: Settings,
    damage: str,
    message: str,
) -> None:
    csrf = signed_in(client, "north.content")
    built, signature = v2, None
    if damage == "signature":
        lines = v2.signature.decode().splitlines()
        lines[1] = lines[1][:20] + ("A" if lines[1][20] != "A" else "B") + lines[1][21:]
        signature = ("\n".join(lines) + "\n").encode()
    elif damage == "pack":
        middle = len(v2.pack) // 2
        built = Built(
            v2.pack[:middle] + bytes([v2.pack[middle] ^ 1]) + v2.pack[middle + 1 :], v2.signature
        )
    elif damage == "not text":
        signature = b"\xff\xfe\x00"
    else:
        signature = b"untrusted comment: nothing\nnot base64\n"

    status, page = upload(client, csrf, built, ["north"], signature=signature)

    assert status == 400
    error = page.split('data-testid="upload-error">', 1)[1].split("</p>", 1)[0]
    assert message in text(error)
    nothing_written(sessions, settings)


def test_a_pack_signed_by_an_untrusted_key_is_refused(
    client: TestClient,
    scheme: Scheme,
    world: World,
    tmp_path: Path,
    sessions: SessionFactory,
    settings: Settings,
) -> None:
    csrf = signed_in(client, "north.content")
    stranger = build(world, tmp_path, version=2, key=signing.SecretKey.generate())

    status, page = upload(client, csrf, stranger, ["north"])

    assert status == 400
    assert "which is not a trusted publisher key" in page
    nothing_written(sessions, settings)


def test_an_upload_without_its_signature_is_refused(
    client: TestClient, scheme: Scheme, v2: Built, sessions: SessionFactory, settings: Settings
) -> None:
    csrf = signed_in(client, "north.content")
    response = client.post(
        "/dashboard/content/upload",
        data={"csrf_token": csrf, "forces": ["north"]},
        files={"pack": ("p.pack", v2.pack, "application/octet-stream")},
    )
    assert response.status_code == 400
    assert "Choose the pack&#39;s signature file" in response.text
    nothing_written(sessions, settings)


def test_a_forces_content_staff_publish_only_to_their_force(
    client: TestClient, scheme: Scheme, v2: Built, sessions: SessionFactory, settings: Settings
) -> None:
    csrf = signed_in(client, "north.content")

    status, page = upload(client, csrf, v2, ["north", "south"])

    assert status == 400
    assert "You may publish only to your own force." in page
    nothing_written(sessions, settings)


def test_an_upload_needs_the_forms_token(
    client: TestClient, scheme: Scheme, v2: Built, sessions: SessionFactory, settings: Settings
) -> None:
    signed_in(client, "north.content")
    status, _ = upload(client, "forged", v2, ["north"])
    assert status == 403
    nothing_written(sessions, settings)


def test_a_pack_kept_unpublished_is_offered_to_more_forces_later(
    client: TestClient, scheme: Scheme, v2: Built
) -> None:
    csrf = signed_in(client, "scheme.admin")
    status, location = upload(client, csrf, v2, [])
    assert status == 303
    assert "alcohol-and-you:2" not in catalogue(scheme.south_kiosk)

    offered = client.post(
        "/dashboard/content/alcohol-and-you/2/publish",
        data={"csrf_token": csrf, "forces": ["south"]},
    )

    assert offered.status_code == 303
    assert "alcohol-and-you:2" in catalogue(scheme.south_kiosk)
    assert "alcohol-and-you:2" not in catalogue(scheme.north_kiosk)
    page = client.get(offered.headers["location"]).text
    assert "Offered to the forces chosen" in page


def test_a_version_held_by_other_forces_is_retired_only_by_a_scheme_admin(
    client: TestClient, scheme: Scheme, sessions: SessionFactory
) -> None:
    csrf = signed_in(client, "north.content")
    assert "Retire this version" not in client.get("/dashboard/content/alcohol-and-you/1").text
    refused = client.post("/dashboard/content/alcohol-and-you/1/retire", data={"csrf_token": csrf})
    assert refused.status_code == 403
    assert "only a scheme administrator may retire it" in refused.text

    csrf = signed_in(client, "scheme.admin")
    confirm = client.get("/dashboard/content/alcohol-and-you/1/retire")
    assert "Retire Alcohol and you version 1?" in text(confirm.text)
    done = client.post("/dashboard/content/alcohol-and-you/1/retire", data={"csrf_token": csrf})

    assert done.status_code == 303
    revoked = [c for c in scheme.south_kiosk.pull_all() if c.kind == "revocation"]
    assert revoked
    assert {c.id for c in revoked} == {"alcohol-and-you:1"}
    with sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "pack.retired")).one()
    assert entry.actor == "scheme.admin"
    again = client.post("/dashboard/content/alcohol-and-you/1/retire", data={"csrf_token": csrf})
    assert again.status_code == 409


def test_a_version_only_ones_force_holds_is_retired_by_its_content_staff(
    client: TestClient, scheme: Scheme, v2: Built
) -> None:
    csrf = signed_in(client, "north.content")
    upload(client, csrf, v2, ["north"])

    done = client.post("/dashboard/content/alcohol-and-you/2/retire", data={"csrf_token": csrf})

    assert done.status_code == 303
    assert "Retired" in client.get(done.headers["location"]).text
    rows = table(client.get("/dashboard/content").text, "releases")
    assert [(r[1], r[5]) for r in rows] == [("2", "Retired"), ("1", "Live")]


def test_a_forces_content_staff_see_only_their_forces_holdings(
    client: TestClient, scheme: Scheme
) -> None:
    signed_in(client, "north.content")
    rows = table(client.get("/dashboard/content").text, "releases")
    assert rows[0][4] == "north"
    signed_in(client, "scheme.admin")
    rows = table(client.get("/dashboard/content").text, "releases")
    assert rows[0][4] == "north, south"


@pytest.mark.parametrize("username", ["north.officer", "north.supervisor"])
def test_caseworkers_have_no_content_pages(
    client: TestClient, scheme: Scheme, username: str
) -> None:
    signed_in(client, username)
    assert client.get("/dashboard/content").status_code == 403
    assert client.get("/dashboard/content/alcohol-and-you/1").status_code == 403
