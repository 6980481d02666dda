"""The programme model (programme, modules, typed steps) and the events the rules read."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    field_validator,
    model_validator,
)

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
# The pack format's member-name alphabet, so every referenced file can be packed as named.
_PATH_CHARS = re.compile(r"[A-Za-z0-9._/-]{1,255}")

Ident = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def check_relative_path(value: str) -> str:
    """Accept only a plain relative POSIX path that stays inside the pack folder."""
    if not _PATH_CHARS.fullmatch(value):
        raise ValueError("may use only letters, digits, '.', '_', '-' and '/' (at most 255)")
    path = PurePosixPath(value)
    if path.is_absolute():
        raise ValueError("must be relative to the programme folder, not absolute")
    if any(part in ("..", ".") for part in value.split("/")) or "" in value.split("/"):
        raise ValueError("must not contain '.', '..' or empty path segments")
    return value


RelPath = Annotated[str, AfterValidator(check_relative_path)]


def check_https_url(value: str) -> str:
    """Accept only an absolute https URL with a host and no spaces."""
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in value):
        raise ValueError(f"{value!r} must be an absolute https:// URL")
    return value


HttpsUrl = Annotated[str, AfterValidator(check_https_url)]
_PHONE = re.compile(r"[0-9+][0-9 ()-]{2,30}")


def check_phone(value: str) -> str:
    """Accept a phone number as people write it: digits, spaces, '+', '-' and brackets."""
    if not _PHONE.fullmatch(value):
        raise ValueError(f"{value!r} is not a phone number (digits, spaces, '+', '-', brackets)")
    return value


Phone = Annotated[str, AfterValidator(check_phone)]


class Frozen(BaseModel):
    """Base for every model here: immutable, and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class StepBase(Frozen):
    id: Ident
    title: Text
    required: bool = True
    body: str = ""
    # Every file the step shows besides a media source: body images, extra files.
    media: tuple[RelPath, ...] = ()

    def referenced_media(self) -> tuple[str, ...]:
        """Every pack member this step needs, in first-mention order."""
        return self.media

    def rule_text(self) -> str:
        """One line saying what completes the step (for outlines and officers)."""
        raise NotImplementedError


class ReadingStep(StepBase):
    type: Literal["reading"] = "reading"
    min_dwell_seconds: int = Field(default=0, ge=0)
    narration: RelPath | None = None

    def referenced_media(self) -> tuple[str, ...]:
        extra = (self.narration,) if self.narration else ()
        return tuple(dict.fromkeys((*self.media, *extra)))

    def rule_text(self) -> str:
        return f"read for at least {self.min_dwell_seconds} s in total"


class _PlayableStep(StepBase):
    source: RelPath
    duration_seconds: float = Field(gt=0)
    min_play_fraction: float = Field(default=0.9, gt=0, le=1)

    def referenced_media(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.source, *self.media)))

    def rule_text(self) -> str:
        return f"play at least {self.min_play_fraction:.0%} of {self.duration_seconds:g} s"


class AudioStep(_PlayableStep):
    type: Literal["audio"] = "audio"


class VideoStep(_PlayableStep):
    type: Literal["video"] = "video"


class Option(Frozen):
    text: Text
    correct: bool = False
    feedback: str = ""


class Question(Frozen):
    id: Ident
    prompt: Text
    options: tuple[Option, ...] = Field(min_length=2)

    @model_validator(mode="after")
    def _has_correct_option(self) -> Question:
        if not any(option.correct for option in self.options):
            raise ValueError(f"question {self.id!r} has no correct option")
        return self


class QuizStep(StepBase):
    type: Literal["quiz"] = "quiz"
    questions: tuple[Question, ...] = Field(min_length=1)
    pass_mark: int = Field(default=100, ge=0, le=100)
    max_attempts: int | None = Field(default=None, ge=1)

    @field_validator("questions")
    @classmethod
    def _unique_question_ids(cls, questions: tuple[Question, ...]) -> tuple[Question, ...]:
        _reject_duplicates("question", [q.id for q in questions])
        return questions

    def rule_text(self) -> str:
        attempts = (
            "unlimited attempts"
            if self.max_attempts is None
            else (f"at most {self.max_attempts} attempt(s)")
        )
        return f"score at least {self.pass_mark}% of {len(self.questions)} question(s), {attempts}"


class ReflectionStep(StepBase):
    type: Literal["reflection"] = "reflection"
    prompt: Text
    min_words: int = Field(default=0, ge=0)
    needs_review: bool = False

    def rule_text(self) -> str:
        review = ", reviewed by an officer" if self.needs_review else ""
        return f"write at least {self.min_words} word(s){review}"


class LetterStep(StepBase):
    type: Literal["letter"] = "letter"
    prompt: Text
    min_words: int = Field(default=0, ge=0)

    @property
    def needs_review(self) -> bool:
        """Letters go to a victim or a court file, so an officer always reads them first."""
        return True

    def rule_text(self) -> str:
        return f"write a letter of at least {self.min_words} word(s), reviewed by an officer"


class PledgeStep(StepBase):
    type: Literal["pledge"] = "pledge"
    items: tuple[Text, ...] = Field(min_length=1)
    min_items: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _reachable(self) -> PledgeStep:
        if self.min_items > len(self.items):
            raise ValueError(f"min_items {self.min_items} exceeds the {len(self.items)} prompts")
        return self

    def rule_text(self) -> str:
        return f"save at least {self.min_items} different action(s)"


class CheckpointStep(StepBase):
    type: Literal["checkpoint"] = "checkpoint"
    summary: Text

    def rule_text(self) -> str:
        return "confirm the summary"


Step = Annotated[
    ReadingStep
    | AudioStep
    | VideoStep
    | QuizStep
    | ReflectionStep
    | LetterStep
    | PledgeStep
    | CheckpointStep,
    Field(discriminator="type"),
]
STEP_TYPES: tuple[str, ...] = (
    "reading",
    "audio",
    "video",
    "quiz",
    "reflection",
    "letter",
    "pledge",
    "checkpoint",
)


class Module(Frozen):
    id: Ident
    title: Text
    required: bool = True
    steps: tuple[Step, ...] = Field(min_length=1)


class Signpost(Frozen):
    """A source of help the kiosk shows on every step screen (e.g. a national helpline)."""

    name: Text
    phone: Phone | None = None
    url: HttpsUrl | None = None
    hours: Text | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Signpost:
        if self.phone is None and self.url is None:
            raise ValueError(f"signpost {self.name!r} needs a phone number or a url")
        return self


class AreaLink(Frozen):
    """A service each force may point at its own local provider; steps link it as area:<id>."""

    id: Ident
    title: Text
    default_url: HttpsUrl


class Programme(Frozen):
    id: Ident
    # The programme this pack is a language version of; the same for every translation.
    family: Ident
    version: int = Field(ge=1)
    title: Text
    language: Annotated[str, StringConstraints(pattern=LANGUAGE_PATTERN)]
    topics: tuple[Ident, ...] = ()
    estimated_minutes: int = Field(ge=1)
    audience_notes: str = ""
    sources: tuple[Text, ...] = ()
    outcomes: tuple[Text, ...] = ()
    signposting: tuple[Signpost, ...] = ()
    area_links: tuple[AreaLink, ...] = ()
    modules: tuple[Module, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _family_defaults_to_id(cls, data: Any) -> Any:
        # Packs built before families existed carry none: each is its own family.
        if isinstance(data, dict) and data.get("family") is None and "id" in data:
            return {**data, "family": data["id"]}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Programme:
        _reject_duplicates("module", [m.id for m in self.modules])
        _reject_duplicates("area link", [a.id for a in self.area_links])
        _reject_duplicates("step", [s.id for s in self.all_steps()])
        if not any(s.required for m in self.modules if m.required for s in m.steps):
            raise ValueError("a programme needs at least one required step in a required module")
        return self

    def all_steps(self) -> Iterator[Step]:
        """Every step in programme order."""
        for module in self.modules:
            yield from module.steps

    def step(self, step_id: str) -> Step:
        """The step with this id; KeyError if there is none."""
        for candidate in self.all_steps():
            if candidate.id == step_id:
                return candidate
        raise KeyError(step_id)

    def module_of(self, step_id: str) -> Module:
        """The module holding this step; KeyError if there is none."""
        for module in self.modules:
            if any(s.id == step_id for s in module.steps):
                return module
        raise KeyError(step_id)

    def media_paths(self) -> tuple[str, ...]:
        """Every media member any step references, sorted."""
        return tuple(sorted({p for s in self.all_steps() for p in s.referenced_media()}))

    def minimum_seconds(self) -> float:
        """The least time the rules enforce on required work (dwell and playback)."""
        total = 0.0
        for module in self.modules:
            for s in module.steps:
                if not (module.required and s.required):
                    continue
                if isinstance(s, ReadingStep):
                    total += s.min_dwell_seconds
                elif isinstance(s, AudioStep | VideoStep):
                    total += s.duration_seconds * s.min_play_fraction
        return total


def _reject_duplicates(kind: str, ids: list[str]) -> None:
    dups = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dups:
        raise ValueError(f"duplicate {kind} id(s): {', '.join(dups)}")


class Event(Frozen):
    """One thing that happened, as recorded in the device journal (only what the rules read)."""

    id: str
    type: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    step_id: str | None = None
    occurred_at: datetime
    data: dict[str, JsonValue] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _uuid(cls, value: str) -> str:
        # Canonical form, so two spellings of one id cannot count twice.
        return str(uuid.UUID(value))

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("occurred_at must carry a timezone (UTC)")
        return value.astimezone(UTC)


def outline(programme: Programme) -> str:
    """A plain-text outline: modules, steps with their type and completion rule, timings."""
    p = programme
    lines = [
        f"{p.title} ({p.id} v{p.version}, {p.language})",
        f"Estimated time: {p.estimated_minutes} min "
        f"(rules enforce at least {p.minimum_seconds() / 60:.1f} min)",
    ]
    if p.family != p.id:
        lines.append(f"Language version of: {p.family}")
    if p.topics:
        lines.append(f"Topics: {', '.join(p.topics)}")
    for number, module in enumerate(p.modules, start=1):
        optional = "" if module.required else " [optional]"
        lines.append(f"{number}. {module.title} ({module.id}){optional}")
        for step in module.steps:
            flag = "" if step.required else " [optional]"
            lines.append(f"   - {step.type:<10} {step.title} ({step.id}){flag}: {step.rule_text()}")
    if p.outcomes:
        lines.append("Outcomes:")
        lines.extend(f"  * {o}" for o in p.outcomes)
    if p.sources:
        lines.append("Sources:")
        lines.extend(f"  * {s}" for s in p.sources)
    if p.signposting:
        lines.append("Help shown on every screen:")
        for sign in p.signposting:
            how = ", ".join(x for x in (sign.phone, sign.url, sign.hours) if x)
            lines.append(f"  * {sign.name}: {how}")
    if p.area_links:
        lines.append("Area links (each force may set its own):")
        lines.extend(f"  * area:{a.id} {a.title} (default {a.default_url})" for a in p.area_links)
    return "\n".join(lines) + "\n"
