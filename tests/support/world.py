"""A small scheme to test against: two forces, three sites, the sample programme published."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from content_packs import authoring, pack, signing
from content_packs.model import Programme
from sync_server import models
from sync_server.db import SessionFactory
from sync_server.services import admin, enrolment, packs
from sync_server.settings import Settings

SAMPLE = Path(__file__).resolve().parents[2] / "content_packs" / "library" / "alcohol-and-you"
PROGRAMME_ID = "alcohol-and-you"
SITES = {
    "north-custody": "north",
    "north-library": "north",
    "south-custody": "south",
}


@dataclass
class World:
    settings: Settings
    sessions: SessionFactory
    publisher: signing.SecretKey
    programme: Programme
    pack_path: Path

    def code(self, site: str = "north-custody", *, lifetime: timedelta | None = None) -> str:
        """A fresh one-time enrolment code for `site`."""
        with self.sessions.begin() as s:
            return enrolment.issue_code(
                s,
                site_id=site,
                created_by=None,
                now=datetime.now(UTC),
                lifetime=lifetime or self.settings.enrolment_code_lifetime,
            )

    def add_staff(
        self,
        username: str,
        *,
        password: str,
        role: models.Role = models.Role.OFFICER,
        force_id: str | None = "north",
    ) -> None:
        """A staff account on the server (kiosks of the force pull officers' credentials)."""
        with self.sessions.begin() as s:
            admin.create_staff(
                s,
                username=username,
                display_name=username.title(),
                role=role,
                force_id=force_id,
                password=password,
                now=datetime.now(UTC),
            )


def build_sample_pack(settings: Settings, publisher: signing.SecretKey, out: Path) -> Path:
    """The sample programme built for this server's escrow key, as a publisher would."""
    loaded = authoring.load_source(SAMPLE)
    result = pack.build(
        loaded, out, sign_key=publisher, recipients=[packs.escrow_recipient(settings)]
    )
    return result.pack_path


def make_world(settings: Settings, sessions: SessionFactory, tmp: Path) -> World:
    now = datetime.now(UTC)
    with sessions.begin() as s:
        admin.create_force(s, force_id="north", name="North Constabulary", now=now)
        admin.create_force(s, force_id="south", name="South Police", now=now)
    with sessions.begin() as s:
        for site, force in SITES.items():
            admin.create_site(s, site_id=site, force_id=force, name=site.title(), now=now)
    publisher = signing.SecretKey.generate()
    packs.add_publisher_key(settings, publisher.public_key.to_str())
    pack_path = build_sample_pack(settings, publisher, tmp / f"{PROGRAMME_ID}-1.pack")
    signature = pack.signature_path_for(pack_path).read_text(encoding="utf-8")
    with sessions.begin() as s:
        packs.publish(
            s, settings, pack_path=pack_path, signature_text=signature, forces=None, now=now
        )
    programme = authoring.load_source(SAMPLE).programme
    return World(settings, sessions, publisher, programme, pack_path)
