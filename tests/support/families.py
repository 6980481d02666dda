"""The sample programme and its Polish version on one kiosk, offered by the catalogue."""

from __future__ import annotations

from pathlib import Path

from content_packs import age, authoring, pack, signing
from kiosk_app.store import repos
from kiosk_app.store.db import Store
from kiosk_app.store.models import CatalogueEntry
from tests.support.kiosk import SAMPLE, SamplePack, install_sample

SAMPLE_PL = SAMPLE.with_name("alcohol-and-you-pl")


def build_family(
    out_dir: Path, sources: tuple[Path, ...] = (SAMPLE, SAMPLE_PL)
) -> list[SamplePack]:
    """Each source built for one device identity and signed by one publisher."""
    identity = age.X25519Identity.generate()
    publisher = signing.SecretKey.generate()
    built = []
    for source in sources:
        loaded = authoring.load_source(source)
        programme = loaded.programme
        out = out_dir / f"{programme.id}-{programme.version}.pack"
        result = pack.build(loaded, out, sign_key=publisher, recipients=[identity.recipient])
        built.append(
            SamplePack(
                path=out,
                signature=result.signature_path.read_text("utf-8"),
                publisher=publisher.public_key,
                identity=identity,
                programme=programme,
            )
        )
    return built


def offer(store: Store, built: SamplePack, *, revoked: bool = False) -> None:
    """The catalogue entry a pull stores for `built` (family and language from its manifest)."""
    programme = built.programme
    with store.unit() as s:
        s.add(
            CatalogueEntry(
                pack_id=programme.id,
                version=programme.version,
                title=programme.title,
                language=programme.language,
                family=programme.family,
                size=built.path.stat().st_size,
                sha256="0" * 64,
                signature=built.signature,
                url=f"https://packs.invalid/{programme.id}-{programme.version}.pack",
                revoked=revoked,
            )
        )


def install_and_offer(store: Store, *family: SamplePack) -> None:
    """Install every pack of `family` and offer each in the catalogue."""
    for built in family:
        install_sample(store, built)
        offer(store, built)


def set_language(store: Store, participant_id: str, language: str) -> None:
    """The language the officer registered the participant with."""
    with store.unit() as s:
        person = repos.participant(s, participant_id)
        assert person is not None
        person.language = language
