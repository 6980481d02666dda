"""Content checks every library programme must pass: reading ease, quizzes, timings, links."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import textstat
from markdown_it import MarkdownIt

from content_packs.authoring import (
    PACK_FILE,
    AuthoringError,
    LoadedSource,
    Loc,
    Problem,
    front_matter_lines,
    load_source,
    pack_toml_line,
)
from content_packs.model import (
    AudioStep,
    LetterStep,
    PledgeStep,
    Programme,
    QuizStep,
    ReadingStep,
    ReflectionStep,
    Step,
    VideoStep,
    check_https_url,
)
from content_packs.narration import plain_text

MINUTES_RANGE: Final = (45, 120)
MODULES_RANGE: Final = (4, 6)
MIN_SOURCES: Final = 3
MIN_OUTCOMES: Final = 3
MIN_FLESCH: Final = 70.0
# Flesch reading ease is defined for English; other languages are held to short sentences.
MAX_MEAN_SENTENCE_WORDS: Final = 15.0
PASS_MARK_RANGE: Final = (50, 80)
MIN_ATTEMPTS: Final = 3
MIN_DWELL: Final = 10
# ~500 words a minute is clicking through; ~150 is a slow reader who must never be stuck.
DWELL_PER_WORD: Final = (0.12, 0.4)
REFLECTION_WORDS: Final = (20, 80)
LETTER_WORDS: Final = (50, 150)
READING_WPM: Final = 120
STEP_MINUTES: Final = {"reflection": 5.0, "letter": 10.0, "pledge": 5.0, "checkpoint": 1.0}
TIME_TOLERANCE: Final = 0.25
AREA_SCHEME: Final = "area:"
_WORD = re.compile(r"\w+(?:['’-]\w+)*")
_SENTENCE = re.compile(r"[^.!?…]+[.!?…]*")


def check_source(path: Path | str) -> list[Problem]:
    """Every problem with a source folder: authoring errors first, else the content checks."""
    try:
        loaded = load_source(path)
    except AuthoringError as exc:
        return list(exc.problems)
    return check_programme(loaded)


def check_programme(source: LoadedSource) -> list[Problem]:
    """Every content-check problem with a loaded source folder, in file order."""
    checker = _Checker(source)
    problems = [*checker.programme_problems(), *checker.step_problems()]
    return sorted(problems, key=lambda p: (p.file != PACK_FILE, p.file, p.line))


def words(text: str) -> int:
    """How many words a plain text has."""
    return len(_WORD.findall(text))


def mean_sentence_words(text: str) -> float:
    """The mean number of words in each sentence of a plain text (0 for no sentences)."""
    counts = [n for s in _SENTENCE.findall(text) if (n := words(s))]
    return sum(counts) / len(counts) if counts else 0.0


def reading_ease(text: str) -> float:
    """Flesch reading ease of an English plain text (higher is easier; 70+ is plain English)."""
    return float(textstat.flesch_reading_ease(text))


def step_minutes(step: Step) -> float:
    """The time a typical participant needs for a step, for the programme's estimate."""
    if isinstance(step, ReadingStep):
        return words(plain_text(step.body)) / READING_WPM
    if isinstance(step, QuizStep):
        return float(len(step.questions))
    if isinstance(step, AudioStep | VideoStep):
        return step.duration_seconds / 60
    return STEP_MINUTES[step.type]


def estimated_minutes(programme: Programme) -> float:
    """The sum of every step's typical time (see step_minutes)."""
    return sum(step_minutes(step) for step in programme.all_steps())


def links(markdown: str) -> Iterator[tuple[str, int]]:
    """Every link target in a Markdown text, with its 0-based line within the text."""
    for token in MarkdownIt("commonmark").parse(markdown):
        if token.type != "inline" or token.map is None or not token.children:
            continue
        line = token.map[0]
        for child in token.children:
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.type == "link_open":
                yield str(child.attrGet("href") or ""), line


class _Checker:
    def __init__(self, source: LoadedSource) -> None:
        self.source = source
        self.programme = source.programme
        self.area_ids = {a.id for a in self.programme.area_links}

    def toml(self, message: str, *loc: str | int) -> Problem:
        return Problem(PACK_FILE, pack_toml_line(self.source.root, loc), message)

    def programme_problems(self) -> Iterator[Problem]:
        p = self.programme
        low, high = MINUTES_RANGE
        if not low <= p.estimated_minutes <= high:
            yield self.toml(
                f"estimated_minutes is {p.estimated_minutes}; a programme takes {low}-{high}",
                "estimated_minutes",
            )
        low, high = MODULES_RANGE
        if not low <= len(p.modules) <= high:
            yield self.toml(f"{len(p.modules)} modules; a programme has {low}-{high}", "modules", 0)
        for key, least in (("sources", MIN_SOURCES), ("outcomes", MIN_OUTCOMES)):
            have = len(getattr(p, key))
            if have < least:
                yield self.toml(f"{key} lists {have}; give at least {least}", key)
        for index, module in enumerate(p.modules):
            types = {step.type for step in module.steps}
            wanted = (("reading", {"reading"}), ("quiz", {"quiz"}))
            missing = [name for name, kinds in wanted if not types & kinds]
            if not types & {"reflection", "letter"}:
                missing.append("reflection or letter")
            if missing:
                yield self.toml(
                    f"module {module.id!r} has no {', no '.join(missing)}", "modules", index
                )
        if p.modules and not any(isinstance(s, PledgeStep) for s in p.modules[-1].steps):
            last = len(p.modules) - 1
            yield self.toml(f"the last module {p.modules[-1].id!r} has no pledge", "modules", last)
        total = estimated_minutes(p)
        if abs(total - p.estimated_minutes) > TIME_TOLERANCE * p.estimated_minutes:
            yield self.toml(
                f"estimated_minutes is {p.estimated_minutes} but the steps add up to "
                f"{total:.0f} min (within {TIME_TOLERANCE:.0%} wanted)",
                "estimated_minutes",
            )
        for name in p.media_paths():
            if not (self.source.root / name).is_file():
                yield self.toml(f"media {name!r} does not exist")

    def step_problems(self) -> Iterator[Problem]:
        for step in self.programme.all_steps():
            where = _StepFile(self.source.root, self.source.step_files.get(step.id, PACK_FILE))
            for href, offset in links(step.body):
                reason = self.bad_link(href)
                if reason:
                    yield Problem(where.ref, where.body_line + offset, f"link {href!r} {reason}")
            if isinstance(step, ReadingStep):
                yield from self.reading(step, where)
            elif isinstance(step, QuizStep):
                yield from self.quiz(step, where)
            elif isinstance(step, ReflectionStep | LetterStep):
                low, high = REFLECTION_WORDS if step.type == "reflection" else LETTER_WORDS
                if not low <= step.min_words <= high:
                    yield where.at(
                        ("min_words",),
                        f"min_words is {step.min_words}; a {step.type} asks for {low}-{high}",
                    )

    def bad_link(self, href: str) -> str | None:
        if href.startswith(AREA_SCHEME):
            area = href.removeprefix(AREA_SCHEME)
            if area in self.area_ids:
                return None
            known = ", ".join(sorted(self.area_ids)) or "none"
            return f"names an unknown area link (pack.toml [[area_links]] ids: {known})"
        try:
            check_https_url(href)
        except ValueError:
            return "must be an absolute https:// URL or area:<id>"
        return None

    def reading(self, step: ReadingStep, where: _StepFile) -> Iterator[Problem]:
        text = plain_text(step.body)
        count = words(text)
        if self.programme.language.split("-")[0] == "en":
            score = reading_ease(text) if count else 0.0
            if score < MIN_FLESCH:
                yield where.body(
                    f"Flesch reading ease {score:.0f}; plain English needs {MIN_FLESCH:.0f}+ "
                    f"(shorter sentences, shorter words)",
                )
        else:
            mean = mean_sentence_words(text)
            if mean > MAX_MEAN_SENTENCE_WORDS:
                yield where.body(
                    f"sentences average {mean:.1f} words; keep them to "
                    f"{MAX_MEAN_SENTENCE_WORDS:.0f} or fewer",
                )
        low = max(MIN_DWELL, round(DWELL_PER_WORD[0] * count))
        high = max(MIN_DWELL, int(DWELL_PER_WORD[1] * count))
        if not low <= step.min_dwell_seconds <= high:
            yield where.at(
                ("min_dwell_seconds",),
                f"min_dwell_seconds is {step.min_dwell_seconds}; for {count} words "
                f"use {low}-{high}",
            )

    def quiz(self, step: QuizStep, where: _StepFile) -> Iterator[Problem]:
        low, high = PASS_MARK_RANGE
        if not low <= step.pass_mark <= high:
            yield where.at(("pass_mark",), f"pass_mark is {step.pass_mark}; use {low}-{high}")
        if step.max_attempts is not None and step.max_attempts < MIN_ATTEMPTS:
            yield where.at(
                ("max_attempts",),
                f"max_attempts is {step.max_attempts}; leave it out (unlimited) "
                f"or allow at least {MIN_ATTEMPTS}",
            )
        for qi, question in enumerate(step.questions):
            q_loc: Loc = ("questions", qi)
            right = [o for o in question.options if o.correct]
            if len(right) != 1:
                yield where.at(
                    q_loc,
                    f"question {question.id!r} has {len(right)} correct options; give exactly one",
                )
            right_feedback = {" ".join(o.feedback.split()) for o in right}
            for oi, option in enumerate(question.options):
                feedback = " ".join(option.feedback.split())
                loc = (*q_loc, "options", oi)
                if not feedback:
                    yield where.at(loc, f"question {question.id!r} option {oi + 1} has no feedback")
                elif not option.correct and feedback in right_feedback:
                    yield where.at(
                        (*loc, "feedback"),
                        f"question {question.id!r} option {oi + 1}: feedback on a wrong answer "
                        f"must explain the right one, not repeat the correct option's feedback",
                    )


class _StepFile:
    """A step's source file, to report problems at the line of a front-matter key or the body."""

    def __init__(self, root: Path, ref: str) -> None:
        self.ref = ref
        self.key_lines: dict[Loc, int] = {}
        self.body_line = 1
        if ref != PACK_FILE:
            text = (root / ref).read_text(encoding="utf-8")
            self.key_lines, self.body_line = front_matter_lines(text)

    def at(self, loc: Loc, message: str) -> Problem:
        lines = self.key_lines
        line = next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), 1)
        return Problem(self.ref, line, message)

    def body(self, message: str) -> Problem:
        return Problem(self.ref, self.body_line, message)
