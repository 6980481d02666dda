"""Narration audio for reading steps, spoken by espeak-ng and encoded small at build time."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from content_packs.authoring import LoadedSource
from content_packs.manifest import PackError
from content_packs.model import Module, Programme, ReadingStep

NARRATION_DIR = "narration"
# Slower than espeak-ng's default of 175 words a minute: many listeners read with difficulty.
WORDS_PER_MINUTE = 150
# Speech needs little: mono 16 kHz Opus at 16 kbit/s is clear and about 2 KB a second;
# the lowest encoder complexity halves the build time and still sounds the same.
_OPUS_ARGS = (
    *("-ac", "1", "-ar", "16000", "-c:a", "libopus", "-b:a", "16k"),
    *("-application", "voip", "-compression_level", "0", "-frame_duration", "60"),
)
# Bit-exact muxing, so the same source builds the same pack.
_EXACT_ARGS = ("-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1")
_VOICES = {"en": "en-gb", "pl": "pl"}
_SENTENCE_END = re.compile(r"[.!?…]['\")\]]*$")
_INSTALL_HINT = (
    "install it (Debian: apt-get install espeak-ng ffmpeg, or scripts/ensure-debian-packages.sh) "
    "or build without narration (content-pack build --no-narration)"
)


class NarrationError(PackError):
    """Narration could not be made: a tool is missing or failed."""


def plain_text(markdown: str) -> str:
    """Markdown as the words a reader sees: one sentence-ended line per heading, paragraph, item.

    Images, HTML and link targets are dropped; link text and inline code are kept.
    """
    lines: list[str] = []
    for token in MarkdownIt("commonmark").parse(markdown):
        if token.type == "inline":
            text = " ".join(_inline_text(token.children or []).split())
        elif token.type in ("fence", "code_block"):
            text = " ".join(token.content.split())
        else:
            continue
        if not text:
            continue
        if not _SENTENCE_END.search(text):
            text = text[:-1] + "." if text[-1] in ":;,-" else text + "."
        lines.append(text)
    return "\n".join(lines)


def _inline_text(children: list[Token]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def spoken_text(step: ReadingStep) -> str:
    """What the narration says: the step's title (unless the body opens with it), then its body."""
    body = plain_text(step.body)
    title = plain_text(f"# {step.title}")
    if body.split("\n", 1)[0].casefold() == title.casefold():
        return body
    return f"{title}\n{body}"


def voice_for(language: str) -> str:
    """The espeak-ng voice for a pack language such as "en" or "pl-PL"."""
    root = language.split("-")[0].lower()
    return _VOICES.get(root, root)


def require_tools() -> tuple[str, str]:
    """Paths of espeak-ng and ffmpeg; NarrationError saying how to get them if either is missing."""
    found = {name: shutil.which(name) for name in ("espeak-ng", "ffmpeg")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise NarrationError(f"narration needs {' and '.join(missing)}: {_INSTALL_HINT}")
    return str(found["espeak-ng"]), str(found["ffmpeg"])


def synthesise(text: str, language: str, out_path: Path) -> None:
    """Speak text with espeak-ng in the language's voice and write it as Ogg Opus to out_path."""
    espeak, ffmpeg = require_tools()
    voice = voice_for(language)
    spoken = subprocess.run(
        [espeak, "-v", voice, "-s", str(WORDS_PER_MINUTE), "--stdout", "-b", "1"],
        input=text.encode("utf-8"),
        capture_output=True,
        check=False,
    )
    if spoken.returncode != 0 or not spoken.stdout:
        reason = spoken.stderr.decode("utf-8", "replace").strip() or "no audio produced"
        raise NarrationError(f"espeak-ng (voice {voice!r}) failed: {reason}")
    encoded = subprocess.run(
        [ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-f", "wav", "-i", "pipe:0"]
        + [*_OPUS_ARGS, *_EXACT_ARGS, "-f", "ogg", str(out_path)],
        input=spoken.stdout,
        capture_output=True,
        check=False,
    )
    if encoded.returncode != 0:
        reason = encoded.stderr.decode("utf-8", "replace").strip()
        raise NarrationError(f"ffmpeg could not encode narration: {reason}")


def add_narration(source: LoadedSource, workdir: Path) -> LoadedSource:
    """The source with a narration file (made in workdir) for every reading step that lacks one."""
    programme = source.programme
    wanted = [
        step
        for step in programme.all_steps()
        if isinstance(step, ReadingStep) and step.narration is None
    ]
    if not wanted:
        return source
    require_tools()
    made: dict[str, str] = {}
    members = dict(source.members)
    for step in wanted:
        name = f"{NARRATION_DIR}/{step.id}.ogg"
        if name in members:
            raise NarrationError(f"cannot add narration {name!r}: the source already has that file")
        made[step.id] = name
        members[name] = workdir / name
    (workdir / NARRATION_DIR).mkdir(parents=True, exist_ok=True)
    jobs = [(spoken_text(step), members[made[step.id]]) for step in wanted]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        # list() so that the first failure is raised here.
        list(pool.map(lambda job: synthesise(job[0], programme.language, job[1]), jobs))
    return replace(
        source, programme=_with_narration(programme, made), members=dict(sorted(members.items()))
    )


def _with_narration(programme: Programme, made: dict[str, str]) -> Programme:
    modules = tuple(
        Module.model_validate(
            {
                **module.model_dump(exclude={"steps"}),
                "steps": tuple(
                    step.model_copy(update={"narration": made[step.id]})
                    if isinstance(step, ReadingStep) and step.id in made
                    else step
                    for step in module.steps
                ),
            }
        )
        for module in programme.modules
    )
    return Programme.model_validate(
        {**programme.model_dump(exclude={"modules"}), "modules": modules}
    )
