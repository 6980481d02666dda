"""Narration: reading steps are spoken by espeak-ng at build time and packed as small Ogg Opus."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from content_packs import age, signing
from content_packs.authoring import load_source
from content_packs.cli import main as content_pack
from content_packs.model import ReadingStep
from content_packs.narration import (
    NARRATION_DIR,
    NarrationError,
    add_narration,
    plain_text,
    spoken_text,
    synthesise,
    voice_for,
)
from content_packs.pack import Pack, build

PACK_TOML = """\
id = "demo"
version = 1
title = "Demo"
language = "{language}"
estimated_minutes = 5

[[modules]]
id = "one"
title = "One"
steps = ["01-read.md", "02-read.md", "03-reflect.md"]
"""
READ = """\
---
type: reading
id: read
title: Read this
min_dwell_seconds: 10
---
You can stop at any time.
"""
READ_WITH_NARRATION = """\
---
type: reading
id: own-voice
title: Own voice
narration: media/own.ogg
---
This one has its own recording.
"""
REFLECT = """\
---
type: reflection
id: reflect
title: Think
prompt: What will you do?
---
"""


@pytest.fixture(scope="module")
def tools() -> None:
    for name in ("espeak-ng", "ffmpeg"):
        if shutil.which(name) is None:
            pytest.fail(f"`{name}` is not installed; run `make deps` as root", pytrace=False)


def source_folder(root: Path, language: str = "en") -> Path:
    (root / "media").mkdir(parents=True)
    (root / "media" / "own.ogg").write_bytes(b"OggS recorded by a person")
    files = {
        "pack.toml": PACK_TOML.format(language=language),
        "01-read.md": READ,
        "02-read.md": READ_WITH_NARRATION,
        "03-reflect.md": REFLECT,
    }
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("# A heading\n\nA paragraph.", "A heading.\nA paragraph."),
        ("Here is how:\n\n- one thing\n- two things!", "Here is how.\none thing.\ntwo things!"),
        ("Call **Drinkline** on *0300 123 1110*", "Call Drinkline on 0300 123 1110."),
        ("See [the NHS](https://www.nhs.uk) today.", "See the NHS today."),
        ("![A chart](media/chart.svg)\n\nAfter the chart.", "After the chart."),
        ("Two\nlines joined", "Two lines joined."),
        ('He said "stop."', 'He said "stop."'),
    ],
)
def test_plain_text_makes_sentences(markdown: str, expected: str) -> None:
    assert plain_text(markdown) == expected


def test_spoken_text_says_the_title_once() -> None:
    with_heading = ReadingStep(id="a", title="Units", body="# Units\n\nA unit is small.")
    without = ReadingStep(id="b", title="Units", body="A unit is small.")
    assert spoken_text(with_heading) == "Units.\nA unit is small."
    assert spoken_text(without) == "Units.\nA unit is small."


@pytest.mark.parametrize(
    ("language", "voice"), [("en", "en-gb"), ("en-GB", "en-gb"), ("pl", "pl"), ("pl-PL", "pl")]
)
def test_voice_for_language(language: str, voice: str) -> None:
    assert voice_for(language) == voice


@pytest.mark.parametrize(
    ("language", "text"),
    [("en", "You are doing well."), ("pl", "Dobrze ci idzie. Możesz przerwać w każdej chwili.")],
)
def test_synthesise_writes_small_deterministic_ogg_opus(
    tools: None, tmp_path: Path, language: str, text: str
) -> None:
    first, second = tmp_path / "a.ogg", tmp_path / "b.ogg"
    synthesise(text, language, first)
    synthesise(text, language, second)
    data = first.read_bytes()
    assert data.startswith(b"OggS")
    assert b"OpusHead" in data[:200]
    # A few seconds of speech at 16 kbit/s: well under 20 KB.
    assert 1_000 < len(data) < 20_000
    assert second.read_bytes() == data  # the same source builds the same pack


def test_an_unknown_voice_is_a_clear_error(tools: None, tmp_path: Path) -> None:
    with pytest.raises(NarrationError, match="espeak-ng \\(voice 'zz'\\) failed"):
        synthesise("Hello.", "zz", tmp_path / "x.ogg")


def test_missing_espeak_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    source = load_source(source_folder(tmp_path / "src"))
    with pytest.raises(NarrationError, match="needs espeak-ng and ffmpeg.*apt-get install"):
        add_narration(source, tmp_path / "work")


def test_cli_build_without_espeak_says_how_to_fix_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = source_folder(tmp_path / "src")
    key = tmp_path / "publisher.key"
    signing.write_secret_key(key, signing.SecretKey.generate())
    recipient = age.X25519Identity.generate().recipient.to_str()
    args = ["build", str(src), "-o", str(tmp_path / "x.pack"), "--sign-key", str(key)]
    monkeypatch.setenv("PATH", str(tmp_path))
    result = CliRunner().invoke(content_pack, [*args, "--recipient", recipient])
    assert result.exit_code == 1
    assert "needs espeak-ng" in result.output
    assert "--no-narration" in result.output
    quick = CliRunner().invoke(content_pack, [*args, "--recipient", recipient, "--no-narration"])
    assert quick.exit_code == 0, quick.output


def test_add_narration_fills_only_reading_steps_without_one(tools: None, tmp_path: Path) -> None:
    source = load_source(source_folder(tmp_path / "src"))
    narrated = add_narration(source, tmp_path / "work")
    step = narrated.programme.step("read")
    assert isinstance(step, ReadingStep)
    assert step.narration == f"{NARRATION_DIR}/read.ogg"
    assert narrated.members[step.narration] == tmp_path / "work" / NARRATION_DIR / "read.ogg"
    own = narrated.programme.step("own-voice")
    assert isinstance(own, ReadingStep)
    assert own.narration == "media/own.ogg"
    assert set(narrated.members) - set(source.members) == {f"{NARRATION_DIR}/read.ogg"}
    # The source itself is left as it was.
    assert source.programme.step("read") == ReadingStep.model_validate(
        {**step.model_dump(), "narration": None}
    )


@pytest.mark.parametrize(("narrate", "members"), [(True, 1), (False, 0)])
def test_build_packs_narration_only_when_asked(
    tools: None, tmp_path: Path, narrate: bool, members: int
) -> None:
    source = load_source(source_folder(tmp_path / "src", language="pl"))
    key = signing.SecretKey.generate()
    identity = age.X25519Identity.generate()
    out = tmp_path / "demo.pack"
    build(source, out, sign_key=key, recipients=[identity.recipient], narrate=narrate)
    with Pack.open(out, public_key=key.public_key, identities=[identity]) as opened:
        opened.verify()
        narration = [n for n in opened.names() if n.startswith(f"{NARRATION_DIR}/")]
        assert len(narration) == members
        step = opened.programme.step("read")
        assert isinstance(step, ReadingStep)
        assert step.narration == (narration[0] if narration else None)
        if narration:
            assert opened.read_member(narration[0]).startswith(b"OggS")
    # Nothing of the narration work is left beside the pack.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.pack", "demo.pack.minisig", "src"]
