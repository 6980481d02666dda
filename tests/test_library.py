"""Every programme in content_packs/library loads, passes the content checks, builds with
narration, signs, verifies and inspects; docs/programmes.md describes exactly the library."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from content_packs import age, signing
from content_packs.authoring import LoadedSource, load_source
from content_packs.checks import check_programme
from content_packs.cli import DESCRIBE_COMMAND, main, programmes_markdown
from content_packs.model import ReadingStep
from content_packs.narration import NARRATION_DIR
from content_packs.pack import Pack, build

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "content_packs" / "library"
FOLDERS = sorted(p for p in LIBRARY.iterdir() if p.is_dir() and not p.name.startswith("."))


@dataclass(frozen=True)
class Keys:
    secret: signing.SecretKey
    identity: age.X25519Identity
    pubkey_file: Path
    identity_file: Path


@dataclass(frozen=True)
class Built:
    source: LoadedSource
    pack: Path


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    d = tmp_path_factory.mktemp("keys")
    secret = signing.SecretKey.generate()
    identity = age.X25519Identity.generate()
    (d / "publisher.pub").write_text(secret.public_key.to_str(), encoding="utf-8")
    (d / "device.key").write_text(identity.to_str() + "\n", encoding="utf-8")
    return Keys(secret, identity, d / "publisher.pub", d / "device.key")


@pytest.fixture(scope="module", params=FOLDERS, ids=[p.name for p in FOLDERS])
def built(
    request: pytest.FixtureRequest, keys: Keys, tmp_path_factory: pytest.TempPathFactory
) -> Built:
    source = load_source(request.param)
    out = tmp_path_factory.mktemp("packs") / f"{source.programme.id}.pack"
    build(source, out, sign_key=keys.secret, recipients=[keys.identity.recipient], narrate=True)
    return Built(source, out)


def test_the_library_has_programmes() -> None:
    assert len(FOLDERS) >= 2


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
def test_programme_passes_the_content_checks(folder: Path) -> None:
    source = load_source(folder)
    assert source.programme.id == folder.name, "a programme's folder is named after its id"
    problems = [str(p) for p in check_programme(source)]
    assert problems == []


def test_pack_verifies_and_narrates_every_reading_step(built: Built, keys: Keys) -> None:
    with Pack.open(built.pack, public_key=keys.secret.public_key, identities=[keys.identity]) as p:
        p.verify()
        assert p.programme.id == built.source.programme.id
        readings = [s for s in p.programme.all_steps() if isinstance(s, ReadingStep)]
        assert readings
        for step in readings:
            assert step.narration is not None, step.id
            assert p.read_member(step.narration)[:4] == b"OggS"
        made = [n for n in p.names() if n.startswith(f"{NARRATION_DIR}/")]
        assert len(made) == sum(
            1
            for s in built.source.programme.all_steps()
            if isinstance(s, ReadingStep) and s.narration is None
        )


def test_inspect_prints_outline_and_estimated_time(built: Built, keys: Keys) -> None:
    result = CliRunner().invoke(
        main,
        [
            "inspect",
            str(built.pack),
            "--pubkey",
            str(keys.pubkey_file),
            "--identity",
            str(keys.identity_file),
        ],
    )
    assert result.exit_code == 0, result.output
    programme = built.source.programme
    assert f"{programme.title} ({programme.id} v{programme.version}" in result.output
    assert f"Estimated time: {programme.estimated_minutes} min" in result.output
    assert "Estimated time from the steps:" in result.output
    for module in programme.modules:
        assert module.title in result.output


def test_ids_are_unique_and_each_family_has_one_pack_per_language() -> None:
    programmes = [load_source(folder).programme for folder in FOLDERS]
    assert not [i for i, n in Counter(p.id for p in programmes).items() if n > 1]
    ids = {p.id for p in programmes}
    for p in programmes:
        # A translation names the programme it translates, which is in the library too.
        assert p.family in ids, f"{p.id}: family {p.family!r} is not in the library"
    versions = Counter((p.family, p.language.split("-")[0]) for p in programmes)
    assert [key for key, n in versions.items() if n > 1] == []


def test_a_translation_keeps_the_structure_of_its_original() -> None:
    programmes = {p.id: p for p in (load_source(f).programme for f in FOLDERS)}
    translations = [p for p in programmes.values() if p.family != p.id]
    assert translations, "at least one programme is translated"
    for t in translations:
        original = programmes[t.family]
        assert t.language != original.language
        shape = [(m.id, [(s.id, s.type) for s in m.steps]) for m in t.modules]
        assert shape == [(m.id, [(s.id, s.type) for s in m.steps]) for m in original.modules]


def test_programmes_doc_describes_every_programme_in_the_library() -> None:
    programmes = [load_source(folder).programme for folder in FOLDERS]
    doc = (ROOT / "docs" / "programmes.md").read_text(encoding="utf-8")
    for p in programmes:
        assert f"`{p.id}` v{p.version}" in doc, f"regenerate it: {DESCRIBE_COMMAND}"
    assert doc == programmes_markdown(programmes), f"out of date; regenerate: {DESCRIBE_COMMAND}"
