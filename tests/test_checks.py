"""The content checks: a good programme passes, and each fault is caught at its file and line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from content_packs.authoring import load_source
from content_packs.checks import (
    check_source,
    estimated_minutes,
    mean_sentence_words,
    reading_ease,
    words,
)
from content_packs.cli import main as content_pack
from content_packs.model import Programme, outline

READING_BODY = """\
# Your day

You can take this step at your own pace. There is no rush. Read it through once.

- Think about where you were.
- Think about who you were with.

It is fine to find this hard. Many people do. You are doing well by being here.
If you need a break, you can stop and come back. Your work is saved as you go.
You can find help at [the careers service](area:careers-service) or
[the NHS](https://www.nhs.uk).
"""

QUIZ = """\
---
type: quiz
id: quiz-{n}
title: Quiz {n}
pass_mark: 60
questions:
  - id: q1
    prompt: How many units are in a pint of 4% beer?
    options:
      - text: About 2
        correct: true
        feedback: Yes. A pint of 4% beer is about 2 units.
      - text: About 5
        feedback: Not quite. It is about 2 units, because the beer is not very strong.
---
Pick one answer.
"""

REFLECTION = """\
---
type: reflection
id: reflect-{n}
title: Think about it {n}
prompt: What would you like to change?
min_words: 30
---
Write in your own words.
"""

LETTER = """\
---
type: letter
id: letter-{n}
title: Your letter
prompt: Write to the person affected.
min_words: 60
---
Say it in your own words.
"""

PLEDGE = """\
---
type: pledge
id: plan
title: My plan
items:
  - One thing I will do
  - When I will start
min_items: 1
---
Make your plan.
"""

PACK_TOML = """\
id = "demo"
version = 1
title = "Demo"
language = "en"
estimated_minutes = 45
sources = ["Source one", "Source two", "Source three"]
outcomes = ["Outcome one", "Outcome two", "Outcome three"]

[[area_links]]
id = "careers-service"
title = "National Careers Service"
default_url = "https://nationalcareers.service.gov.uk"
{modules}"""

MODULE = """
[[modules]]
id = "module-{n}"
title = "Module {n}"
steps = [{steps}]
"""

Files = dict[str, str]


def good_source() -> Files:
    """Four modules of reading, quiz and reflection (a letter in the third); a pledge last."""
    files: Files = {}
    modules = ""
    for n in range(1, 5):
        names = [f"{n}-read.md", f"{n}-quiz.md", f"{n}-write.md"]
        files[names[0]] = (
            f"---\ntype: reading\nid: read-{n}\ntitle: Read {n}\nmin_dwell_seconds: 15\n---\n"
            + READING_BODY
        )
        files[names[1]] = QUIZ.format(n=n)
        files[names[2]] = (LETTER if n == 3 else REFLECTION).format(n=n)
        if n == 4:
            names.append("4-plan.md")
            files["4-plan.md"] = PLEDGE
        modules += MODULE.format(n=n, steps=", ".join(f'"{name}"' for name in names))
    files["pack.toml"] = PACK_TOML.format(modules=modules)
    return files


def write(root: Path, files: Files) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def edit(name: str, old: str, new: str) -> Callable[[Files], Files]:
    def apply(files: Files) -> Files:
        assert old in files[name], f"{old!r} not in {name}"
        return {**files, name: files[name].replace(old, new, 1)}

    return apply


def test_the_good_source_passes_every_check(tmp_path: Path) -> None:
    assert check_source(write(tmp_path / "good", good_source())) == []


WRONG_FEEDBACK = "Not quite. It is about 2 units, because the beer is not very strong."
LONG_WORDS = (
    "Considerable organisational responsibilities necessitate comprehensive "
    "understanding of institutional accountability, particularly regarding "
    "intergenerational consequences of irresponsible consumption."
)
POLISH_LONG = (
    "To jest bardzo długie zdanie, które ma wiele słów i nie kończy się szybko, "
    "bo autor chciał powiedzieć wszystko naraz i zapomniał o kropce na końcu tej myśli."
)

# (case, change to the good source, file, a text on the expected line, words in the message)
CASES: list[tuple[str, Callable[[Files], Files], str, str, str]] = [
    ("too short", edit("pack.toml", "= 45", "= 30"), "pack.toml", "estimated_minutes", "45-120"),
    (
        "estimate far from the steps",
        edit("pack.toml", "= 45", "= 100"),
        "pack.toml",
        "estimated_minutes",
        "steps add up to 37 min",
    ),
    (
        "too few modules",
        lambda f: edit("pack.toml", '"3-write.md"', '"3-write.md", "4-plan.md"')(
            {**f, "pack.toml": f["pack.toml"].split('\n[[modules]]\nid = "module-4"')[0]}
        ),
        "pack.toml",
        '[[modules]]\nid = "module-1"',
        "3 modules; a programme has 4-6",
    ),
    ("few sources", edit("pack.toml", '"Source one", ', ""), "pack.toml", "sources", "at least 3"),
    ("few outcomes", edit("pack.toml", '"Outcome one", ', ""), "pack.toml", "outcomes", "lists 2"),
    (
        "module without a quiz",
        edit("pack.toml", '"2-read.md", "2-quiz.md"', '"2-read.md"'),
        "pack.toml",
        '[[modules]]\nid = "module-2"',
        "'module-2' has no quiz",
    ),
    (
        "module without a reflection",
        edit("pack.toml", '"1-quiz.md", "1-write.md"', '"1-quiz.md"'),
        "pack.toml",
        '[[modules]]\nid = "module-1"',
        "no reflection or letter",
    ),
    (
        "no pledge at the end",
        edit("pack.toml", ', "4-plan.md"', ""),
        "pack.toml",
        '[[modules]]\nid = "module-4"',
        "has no pledge",
    ),
    (
        "hard English",
        edit("1-read.md", "There is no rush.", LONG_WORDS),
        "1-read.md",
        "# Your day",
        "Flesch reading ease",
    ),
    (
        "long Polish sentences",
        lambda f: edit("pack.toml", 'language = "en"', 'language = "pl"')(
            {**f, "2-read.md": f["2-read.md"].replace(READING_BODY, POLISH_LONG * 3)}
        ),
        "2-read.md",
        POLISH_LONG[:20],
        "sentences average",
    ),
    (
        "two right answers",
        edit("1-quiz.md", "- text: About 5\n", "- text: About 5\n        correct: true\n"),
        "1-quiz.md",
        "- id: q1",
        "2 correct options",
    ),
    (
        "option without feedback",
        edit("2-quiz.md", f"        feedback: {WRONG_FEEDBACK}\n", ""),
        "2-quiz.md",
        "- text: About 5",
        "option 2 has no feedback",
    ),
    (
        "wrong answer's feedback does not explain",
        edit("3-quiz.md", "Not quite. It is about 2 units, because the beer is not very strong.",
             "Yes. A pint of 4% beer is about 2 units."),
        "3-quiz.md",
        "        feedback: Yes. A pint of 4% beer is about 2 units.\n---",
        "must explain the right one",
    ),
    ("pass mark too high", edit("1-quiz.md", "pass_mark: 60", "pass_mark: 100"), "1-quiz.md",
     "pass_mark", "use 50-80"),
    ("pass mark too low", edit("1-quiz.md", "pass_mark: 60", "pass_mark: 40"), "1-quiz.md",
     "pass_mark", "use 50-80"),
    ("too few attempts", edit("1-quiz.md", "pass_mark: 60", "pass_mark: 60\nmax_attempts: 2"),
     "1-quiz.md", "max_attempts", "at least 3"),
    ("click-through dwell", edit("1-read.md", "min_dwell_seconds: 15", "min_dwell_seconds: 5"),
     "1-read.md", "min_dwell_seconds", "use 10-"),
    ("dwell that traps a slow reader",
     edit("1-read.md", "min_dwell_seconds: 15", "min_dwell_seconds: 120"),
     "1-read.md", "min_dwell_seconds", "is 120"),
    ("reflection too short", edit("1-write.md", "min_words: 30", "min_words: 10"), "1-write.md",
     "min_words", "20-80"),
    ("reflection too long", edit("1-write.md", "min_words: 30", "min_words: 200"), "1-write.md",
     "min_words", "20-80"),
    ("letter too short", edit("3-write.md", "min_words: 60", "min_words: 30"), "3-write.md",
     "min_words", "50-150"),
    ("plain http link", edit("1-read.md", "https://www.nhs.uk", "http://www.nhs.uk"),
     "1-read.md", "[the NHS]", "absolute https://"),
    ("relative link", edit("1-read.md", "https://www.nhs.uk", "page.html"), "1-read.md",
     "[the NHS]", "absolute https://"),
    ("unknown area link", edit("1-read.md", "area:careers-service", "area:job-centre"),
     "1-read.md", "(area:job-centre)", "unknown area link"),
    ("missing media", edit("1-read.md", "# Your day", "# Your day\n\n![A chart](media/none.svg)"),
     "1-read.md", "media/none.svg", "does not exist"),
    ("signpost over http", edit("pack.toml", "[[area_links]]",
     '[[signposting]]\nname = "Help"\nurl = "http://help.example"\n\n[[area_links]]'),
     "pack.toml", 'url = "http://help.example"', "https://"),
    ("signpost nobody can reach", edit("pack.toml", "[[area_links]]",
     '[[signposting]]\nname = "Help"\nhours = "Any time"\n\n[[area_links]]'),
     "pack.toml", "[[signposting]]", "needs a phone number or a url"),
    ("signpost phone that is not a number", edit("pack.toml", "[[area_links]]",
     '[[signposting]]\nname = "Help"\nphone = "call us"\n\n[[area_links]]'),
     "pack.toml", 'phone = "call us"', "not a phone number"),
    ("area link twice", edit("pack.toml", "\n[[modules]]",
     '\n[[area_links]]\nid = "careers-service"\ntitle = "Again"\n'
     'default_url = "https://example.org"\n\n[[modules]]'),
     "pack.toml", 'id = "careers-service"\ntitle = "Again"', "duplicate area link id"),
    ("area link over http", edit("pack.toml", "https://nationalcareers", "http://nationalcareers"),
     "pack.toml", "default_url", "https://"),
    ("family that is not an id",
     edit("pack.toml", "version = 1", 'family = "Alcohol and You"\nversion = 1'),
     "pack.toml", "family", "family"),
]  # fmt: skip


def line_of(text: str, needle: str) -> int:
    """The 1-based line where needle starts in text."""
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize(
    ("change", "file", "needle", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_fault_is_reported_at_its_line(
    tmp_path: Path, change: Callable[[Files], Files], file: str, needle: str, message: str
) -> None:
    files = change(good_source())
    problems = check_source(write(tmp_path / "src", files))
    line = line_of(files[file], needle)
    found = [p for p in problems if p.file == file and message in p.message]
    assert found, f"no {message!r} among {[str(p) for p in problems]}"
    assert found[0].line == line, [str(p) for p in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One two three. Four five!", 2.5),
        ("To jest zdanie. A to drugie zdanie jest dłuższe?", 4.5),
        ("", 0.0),
    ],
)
def test_mean_sentence_words(text: str, expected: float) -> None:
    assert mean_sentence_words(text) == expected


def test_plain_english_scores_higher_than_officialese() -> None:
    assert reading_ease("You can stop at any time. Your work is saved.") >= 70
    assert reading_ease(LONG_WORDS) < 70


def test_the_estimate_adds_each_step_type(tmp_path: Path) -> None:
    programme = load_source(write(tmp_path / "src", good_source())).programme
    reading_words = words("\n".join(s.body for s in programme.all_steps() if s.type == "reading"))
    # 4 quizzes of 1 question, 3 reflections, 1 letter, 1 pledge; readings at 120 wpm.
    expected = 4 * 1 + 3 * 5 + 10 + 5
    assert expected < estimated_minutes(programme) <= expected + reading_words / 120


def test_check_command_lists_every_problem_and_fails(tmp_path: Path) -> None:
    good = write(tmp_path / "good", good_source())
    bad_files = edit("1-quiz.md", "pass_mark: 60", "pass_mark: 100")(good_source())
    bad_files = edit("2-write.md", "min_words: 30", "min_words: 5")(bad_files)
    bad = write(tmp_path / "bad", bad_files)
    result = CliRunner().invoke(content_pack, ["check", str(good), str(bad)])
    assert result.exit_code == 1
    assert f"OK {good}" in result.output
    assert f"{bad}/1-quiz.md:5: pass_mark is 100" in result.output
    assert f"{bad}/2-write.md:6: min_words is 5" in result.output
    assert "1 of 2 source folder(s) failed" in result.output


def test_check_command_passes_good_sources(tmp_path: Path) -> None:
    good = write(tmp_path / "good", good_source())
    result = CliRunner().invoke(content_pack, ["check", str(good)])
    assert result.exit_code == 0, result.output
    assert result.output == f"OK {good}\n"


def test_inspect_prints_outline_and_estimated_time(tmp_path: Path) -> None:
    good = write(tmp_path / "good", good_source())
    result = CliRunner().invoke(content_pack, ["inspect", str(good)])
    assert result.exit_code == 0, result.output
    programme = load_source(good).programme
    assert outline(programme) in result.output
    assert f"Estimated time from the steps: {estimated_minutes(programme):.0f} min" in result.output
    assert "area:careers-service National Careers Service" in result.output


def test_a_programme_without_a_family_is_its_own_family(tmp_path: Path) -> None:
    programme = load_source(write(tmp_path / "good", good_source())).programme
    assert programme.family == "demo"
    # Manifests signed before families existed carry no family: they still load.
    old = programme.model_dump(mode="json")
    del old["family"]
    assert Programme.model_validate(old).family == "demo"
    translated = edit("pack.toml", "version = 1", 'family = "demo-en"\nversion = 1')(good_source())
    assert load_source(write(tmp_path / "pl", translated)).programme.family == "demo-en"
