"""Load a programme source folder (pack.toml + Markdown steps) into the model, or list problems."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote

import yaml
from markdown_it import MarkdownIt
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from content_packs.model import (
    LANGUAGE_PATTERN,
    STEP_TYPES,
    AreaLink,
    Ident,
    Module,
    Programme,
    Signpost,
    Step,
    Text,
    check_relative_path,
)

PACK_FILE = "pack.toml"
_STEP_ADAPTER: TypeAdapter[Step] = TypeAdapter(Step)
_PLAYABLE = ("audio", "video")
_URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|//)")
_TABLE_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?\s*(?:#.*)?$")
_TOML_ERROR_LINE = re.compile(r"at line (\d+)")
# pack.toml's arrays of tables; an error inside one is reported at the right [[entry]].
_TABLE_ARRAYS = ("modules", "signposting", "area_links")
Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a source folder, where an author can find it."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class AuthoringError(Exception):
    """A source folder does not make a valid programme; carries every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class LoadedSource:
    """A validated programme and every file that goes into its pack (member name -> path)."""

    root: Path
    programme: Programme
    members: dict[str, Path]
    # Step id -> the step's source file (relative to root), for reporting problems by file.
    step_files: dict[str, str] = field(default_factory=dict)


class _PackModule(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: Ident
    title: Text
    required: bool = True
    steps: list[str] = []


class _PackToml(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: Ident
    family: Ident | None = None
    version: int = Field(ge=1)
    title: Text
    language: Annotated[str, StringConstraints(pattern=LANGUAGE_PATTERN)]
    topics: list[Ident] = []
    estimated_minutes: int = Field(ge=1)
    audience_notes: str = ""
    sources: list[Text] = []
    outcomes: list[Text] = []
    signposting: list[Signpost] = []
    area_links: list[AreaLink] = []
    modules: list[_PackModule] = Field(min_length=1)


def load_source(path: Path | str) -> LoadedSource:
    """Read and validate a source folder; raise AuthoringError listing every problem."""
    root = Path(path)
    if not (root / PACK_FILE).is_file():
        raise AuthoringError([Problem(PACK_FILE, 1, f"no {PACK_FILE} in {root}")])
    problems: list[Problem] = []
    text = (root / PACK_FILE).read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_ERROR_LINE.search(str(exc))
        line = int(found.group(1)) if found else 1
        raise AuthoringError([Problem(PACK_FILE, line, f"invalid TOML: {exc}")]) from None
    toml_lines = _TomlLines(text)
    try:
        pack = _PackToml.model_validate(raw)
    except ValidationError as exc:
        raise AuthoringError(
            [Problem(PACK_FILE, toml_lines.line(loc), msg) for loc, msg in _errors(exc)]
        ) from None

    area_homes: set[str] = set()
    for index, link in enumerate(pack.area_links):
        if link.id in area_homes:
            line = toml_lines.line(("area_links", index, "id"))
            problems.append(Problem(PACK_FILE, line, f"duplicate area link id {link.id!r}"))
        area_homes.add(link.id)
    members: dict[str, Path] = {}
    step_homes: dict[str, str] = {}
    module_homes: dict[str, int] = {}
    modules: list[tuple[_PackModule, list[Step]]] = []
    for index, module in enumerate(pack.modules):
        where = ("modules", index)
        if module.id in module_homes:
            problems.append(
                Problem(
                    PACK_FILE, toml_lines.line((*where, "id")), f"duplicate module id {module.id!r}"
                )
            )
        module_homes.setdefault(module.id, index)
        if not module.steps:
            problems.append(
                Problem(
                    PACK_FILE,
                    toml_lines.line((*where, "steps")),
                    f"module {module.id!r} has no steps",
                )
            )
        steps: list[Step] = []
        for ref in module.steps:
            line = toml_lines.line((*where, "steps"), needle=ref)
            reason = _bad_reference(root, ref)
            if reason is None and ref in members:
                reason = "is listed more than once"
            if reason is not None:
                problems.append(Problem(PACK_FILE, line, f"step file {ref!r} {reason}"))
                continue
            members[ref] = root / ref
            step = _load_step(root, ref, problems, members, step_homes)
            if step is not None:
                steps.append(step)
        modules.append((module, steps))
    if problems:
        raise AuthoringError(problems)

    fields = pack.model_dump(exclude={"modules"})
    try:
        programme = Programme(
            **fields,
            modules=tuple(
                Module(id=m.id, title=m.title, required=m.required, steps=tuple(s))
                for m, s in modules
            ),
        )
    except ValidationError as exc:
        raise AuthoringError([Problem(PACK_FILE, 1, msg) for _, msg in _errors(exc)]) from None
    return LoadedSource(
        root=root, programme=programme, members=dict(sorted(members.items())), step_files=step_homes
    )


def front_matter_lines(text: str) -> tuple[dict[Loc, int], int]:
    """Where each front-matter key of a valid step file is (1-based lines), and the body's line."""
    parsed = _front_matter("", text, [])
    if parsed is None:
        return {}, 1
    _, key_lines, _, body_line = parsed
    return key_lines, body_line


def pack_toml_line(root: Path, loc: Loc, *, needle: str | None = None) -> int:
    """The 1-based line in root's pack.toml of the key at loc, e.g. ("modules", 1, "steps")."""
    return _TomlLines((root / PACK_FILE).read_text(encoding="utf-8")).line(loc, needle=needle)


def _load_step(
    root: Path,
    ref: str,
    problems: list[Problem],
    members: dict[str, Path],
    step_homes: dict[str, str],
) -> Step | None:
    """Validate one step file; record its problems, media and id (step_homes: id -> file)."""
    text = (root / ref).read_text(encoding="utf-8")
    found: list[Problem] = []
    parsed = _front_matter(ref, text, found)
    if parsed is None:
        problems.extend(found)
        return None
    data, key_lines, body, body_line = parsed

    def line_of(loc: Loc) -> int:
        for end in range(len(loc), 0, -1):
            if loc[:end] in key_lines:
                return key_lines[loc[:end]]
        return 1

    step_id = data.get("id")
    if isinstance(step_id, str):
        # Checked on the raw id, so a duplicate is reported even if the step has other faults.
        if step_id in step_homes:
            message = f"duplicate step id {step_id!r} (also in {step_homes[step_id]})"
            found.append(Problem(ref, line_of(("id",)), message))
        step_homes.setdefault(step_id, ref)
    step_type = data.get("type")
    if step_type not in STEP_TYPES:
        message = f"unknown step type {step_type!r}; use one of: {', '.join(STEP_TYPES)}"
        if "type" not in data:
            message = "front matter has no 'type'"
        found.append(Problem(ref, line_of(("type",)), message))
        problems.extend(found)
        return None
    for reserved in ("body", "source"):
        if reserved in data:
            message = f"unknown key {reserved!r}"
            found.append(Problem(ref, line_of((reserved,)), message))

    # Every file the step names, with the line that names it, to check and to pack.
    references: list[tuple[str, int, Loc | None]] = []
    fm = {k: v for k, v in data.items() if k not in ("body", "source")}
    extra_media: list[Any] = []
    if step_type in _PLAYABLE:
        if "media" in fm:
            fm["source"] = fm.pop("media")
            if isinstance(fm["source"], str):
                references.append((fm["source"], line_of(("media",)), ("media",)))
    elif isinstance(fm.get("media"), list):
        extra_media = list(fm["media"])
        for i, item in enumerate(extra_media):
            if isinstance(item, str):
                references.append((item, line_of(("media", i)), ("media", i)))
    if isinstance(fm.get("narration"), str):
        references.append((fm["narration"], line_of(("narration",)), ("narration",)))
    for src, line in _body_images(body, body_line):
        if _URL.match(src):
            found.append(
                Problem(ref, line, f"image {src!r} must be a file in the programme folder")
            )
            continue
        references.append((src, line, None))
        if _bad_reference(root, src) is None:
            extra_media.append(src)
    if "media" not in fm or isinstance(fm["media"], list):
        # Body images join the front-matter list: the model's media is everything shown.
        fm["media"] = tuple(_unique(extra_media))
    fm["body"] = body

    reported: set[Loc] = set()
    for media, line, loc in references:
        reason = _bad_reference(root, media)
        if reason is None:
            members[media] = root / media
        else:
            found.append(Problem(ref, line, f"media {media!r} {reason}"))
            reported.add(loc or ())
    step: Step | None = None
    try:
        step = _STEP_ADAPTER.validate_python(_tuples(fm), strict=True)
    except ValidationError as exc:

        def author_loc(loc: Loc) -> Loc:
            # Drop the union tag pydantic puts first, and speak the author's key names.
            loc = loc[1:] if loc[:1] == (step_type,) else loc
            return ("media", *loc[1:]) if step_type in _PLAYABLE and loc[:1] == ("source",) else loc

        for loc, message in _errors(exc, author_loc):
            if loc not in reported:  # a bad path is already reported, in the author's words
                found.append(Problem(ref, line_of(loc), message))
    problems.extend(sorted(found, key=lambda p: p.line))
    return None if found else step


def _front_matter(
    ref: str, text: str, found: list[Problem]
) -> tuple[dict[str, Any], dict[Loc, int], str, int] | None:
    """Split a step file into front-matter data, key lines (1-based), body and body's first line."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        found.append(Problem(ref, 1, "a step file must start with a '---' front-matter line"))
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        found.append(Problem(ref, 1, "front matter is not closed by a '---' line"))
        return None
    source = "\n".join(lines[1:end])
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 2 if mark is not None else 1
        found.append(Problem(ref, line, f"bad front matter: {getattr(exc, 'problem', exc)}"))
        return None
    if not isinstance(data, dict) or node is None:
        found.append(Problem(ref, 2, "front matter must be a mapping of keys to values"))
        return None
    key_lines: dict[Loc, int] = {}
    _mark_lines(node, (), key_lines, found, ref)
    if found:
        return None
    return data, key_lines, "\n".join(lines[end + 1 :]), end + 2


def _mark_lines(
    node: yaml.Node, loc: Loc, out: dict[Loc, int], found: list[Problem], ref: str
) -> None:
    # Front matter starts on the file's second line; marks are 0-based.
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*loc, str(key.value))
            if child in out:
                found.append(Problem(ref, key.start_mark.line + 2, f"duplicate key {key.value!r}"))
            out[child] = key.start_mark.line + 2
            _mark_lines(value, child, out, found, ref)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            out[(*loc, index)] = item.start_mark.line + 2
            _mark_lines(item, (*loc, index), out, found, ref)


def _body_images(body: str, first_line: int) -> list[tuple[str, int]]:
    """Every image source in the Markdown body, with its file line number."""
    images: list[tuple[str, int]] = []
    for token in MarkdownIt("commonmark").parse(body):
        if token.type != "inline" or token.map is None or not token.children:
            continue
        line = first_line + token.map[0]
        for child in token.children:
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.type == "image":
                images.append((unquote(str(child.attrGet("src") or "")), line))
    return images


def _bad_reference(root: Path, ref: str) -> str | None:
    """Why a referenced file cannot go in the pack, or None if it can."""
    try:
        check_relative_path(ref)
    except ValueError as exc:
        return str(exc)
    target = (root / ref).resolve()
    if not target.is_relative_to(root.resolve()):
        return "points outside the programme folder"
    if not target.is_file():
        return "does not exist"
    return None


def _unique(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _tuples(value: Any) -> Any:
    # The model stores sequences as tuples; strict validation wants them as such.
    if isinstance(value, list | tuple):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, Mapping):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def _errors(
    exc: ValidationError, author_loc: Callable[[Loc], Loc] = lambda loc: loc
) -> list[tuple[Loc, str]]:
    """Pydantic errors as (location, author-facing message)."""
    out: list[tuple[Loc, str]] = []
    errors = exc.errors(include_url=False)
    nested = {tuple(e["loc"][:n]) for e in errors for n in range(len(e["loc"]))}
    for error in errors:
        if error["type"] == "too_short" and tuple(error["loc"]) in nested:
            continue  # pydantic's "too few items" only because items inside failed
        loc = author_loc(tuple(error["loc"]))
        where = ".".join(str(part) for part in loc)
        if error["type"] == "extra_forbidden":
            message = f"unknown key {where!r}"
        elif error["type"] == "missing":
            message = f"missing required key {where!r}"
        else:
            message = error["msg"].removeprefix("Value error, ")
            message = f"{where}: {message}" if where else message
        out.append((loc, message))
    return out


class _TomlLines:
    """Best-effort line numbers for keys in pack.toml (tomllib reports none)."""

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()
        self._headers = [
            (i, m.group(1).strip())
            for i, text in enumerate(self._lines)
            if (m := _TABLE_HEADER.match(text))
        ]

    def line(self, loc: Loc, *, needle: str | None = None) -> int:
        """The 1-based line of the key at loc (e.g. ("modules", 2, "steps")), or its table."""
        start, end, rest = 0, self._section_end(-1), loc
        if len(loc) >= 2 and loc[0] in _TABLE_ARRAYS and isinstance(loc[1], int):
            headers = [i for i, name in self._headers if name == loc[0]]
            if loc[1] < len(headers):
                start = headers[loc[1]]
                end, rest = self._section_end(start), loc[2:]
        if not rest or not isinstance(rest[0], str):
            return start + 1
        key = re.compile(rf"^\s*[\"']?{re.escape(rest[0])}[\"']?\s*=")
        for i in range(start, end):
            if key.match(self._lines[i]):
                if needle is not None:
                    return self._find(needle, i, end)
                return i + 1
        return start + 1

    def _section_end(self, start: int) -> int:
        return next((i for i, _ in self._headers if i > start), len(self._lines))

    def _find(self, needle: str, start: int, end: int) -> int:
        quoted = (f'"{needle}"', f"'{needle}'")
        for i in range(start, end):
            if any(q in self._lines[i] for q in quoted):
                return i + 1
        return start + 1
