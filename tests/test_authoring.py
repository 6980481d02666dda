"""Loading programme source folders: the sample loads; every problem is reported with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from content_packs.authoring import AuthoringError, LoadedSource, Problem, load_source
from content_packs.model import STEP_TYPES, AudioStep, QuizStep, ReadingStep

SAMPLE = Path(__file__).resolve().parents[1] / "content_packs" / "library" / "alcohol-and-you"

PACK_TOML = """\
id = "demo"
version = 1
title = "Demo"
language = "en"
estimated_minutes = 10

[[modules]]
id = "one"
title = "One"
steps = ["01-read.md", "02-quiz.md"]
"""

READ_MD = """\
---
type: reading
id: read
title: Read
min_dwell_seconds: 5
---
# Hello

![pic](media/pic.svg)
"""

QUIZ_MD = """\
---
type: quiz
id: quiz
title: Quiz
pass_mark: 50
questions:
  - id: q1
    prompt: Ready?
    options:
      - text: "Yes"
        correct: true
      - text: "No"
---
Answer the question.
"""

BASE = {"pack.toml": PACK_TOML, "01-read.md": READ_MD, "02-quiz.md": QUIZ_MD}


def write_source(root: Path, files: dict[str, str]) -> Path:
    """Write a source folder from {file name: text}, plus the one image the steps show."""
    (root / "media").mkdir(parents=True, exist_ok=True)
    (root / "media" / "pic.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def replace_line(text: str, number: int, new: str) -> str:
    lines = text.splitlines()
    lines[number - 1] = new
    return "\n".join(lines) + "\n"


def insert_line(text: str, number: int, new: str) -> str:
    lines = text.splitlines()
    lines.insert(number - 1, new)
    return "\n".join(lines) + "\n"


def problems_of(root: Path) -> tuple[Problem, ...]:
    with pytest.raises(AuthoringError) as caught:
        load_source(root)
    return caught.value.problems


def test_the_minimal_folder_loads(tmp_path: Path) -> None:
    loaded = load_source(write_source(tmp_path, BASE))

    assert [s.id for s in loaded.programme.all_steps()] == ["read", "quiz"]
    assert set(loaded.members) == {"01-read.md", "02-quiz.md", "media/pic.svg"}
    assert loaded.programme.step("read").media == ("media/pic.svg",)
    assert loaded.programme.step("read").body.startswith("# Hello")


CASES = {
    "missing media in body": (
        {"01-read.md": replace_line(READ_MD, 9, "![pic](media/missing.svg)")},
        "01-read.md",
        9,
        "'media/missing.svg' does not exist",
    ),
    "missing narration media": (
        {"01-read.md": insert_line(READ_MD, 6, "narration: media/nope.ogg")},
        "01-read.md",
        6,
        "'media/nope.ogg' does not exist",
    ),
    "missing front-matter media list item": (
        {"01-read.md": insert_line(READ_MD, 6, "media:\n  - media/pic.svg\n  - media/gone.png")},
        "01-read.md",
        8,
        "'media/gone.png' does not exist",
    ),
    "unknown step type": (
        {"01-read.md": replace_line(READ_MD, 2, "type: poem")},
        "01-read.md",
        2,
        "unknown step type 'poem'",
    ),
    "quiz question with no correct option": (
        {"02-quiz.md": replace_line(QUIZ_MD, 11, "        correct: false")},
        "02-quiz.md",
        7,
        "question 'q1' has no correct option",
    ),
    "duplicate step id across files": (
        {"02-quiz.md": replace_line(QUIZ_MD, 3, "id: read")},
        "02-quiz.md",
        3,
        "duplicate step id 'read' (also in 01-read.md)",
    ),
    "duplicate module id": (
        {"pack.toml": PACK_TOML + '\n[[modules]]\nid = "one"\ntitle = "Again"\nsteps = []\n'},
        "pack.toml",
        13,
        "duplicate module id 'one'",
    ),
    "module with no steps": (
        {"pack.toml": PACK_TOML + '\n[[modules]]\nid = "two"\ntitle = "Two"\nsteps = []\n'},
        "pack.toml",
        15,
        "module 'two' has no steps",
    ),
    "missing step file": (
        {"pack.toml": replace_line(PACK_TOML, 10, 'steps = ["01-read.md", "02-quiz.md", "x.md"]')},
        "pack.toml",
        10,
        "step file 'x.md' does not exist",
    ),
    "step file listed on its own line": (
        {"pack.toml": replace_line(PACK_TOML, 10, 'steps = [\n  "01-read.md",\n  "gone.md",\n]')},
        "pack.toml",
        12,
        "step file 'gone.md' does not exist",
    ),
    "invalid TOML": (
        {"pack.toml": replace_line(PACK_TOML, 3, "title = ")},
        "pack.toml",
        3,
        "invalid TOML",
    ),
    "bad YAML in front matter": (
        {"01-read.md": replace_line(READ_MD, 4, "title: [unclosed")},
        "01-read.md",
        5,
        "bad front matter",
    ),
    "no front matter": (
        {"01-read.md": "# Just text\n"},
        "01-read.md",
        1,
        "must start with a '---' front-matter line",
    ),
    "unclosed front matter": (
        {"01-read.md": "---\ntype: reading\n"},
        "01-read.md",
        1,
        "not closed",
    ),
    "front matter that is not a mapping": (
        {"01-read.md": "---\n- a\n- b\n---\n"},
        "01-read.md",
        2,
        "must be a mapping",
    ),
    "duplicate front-matter key": (
        {"01-read.md": insert_line(READ_MD, 5, "title: Again")},
        "01-read.md",
        5,
        "duplicate key 'title'",
    ),
    "wrong value type in front matter": (
        {"01-read.md": replace_line(READ_MD, 5, "min_dwell_seconds: lots")},
        "01-read.md",
        5,
        "min_dwell_seconds: Input should be a valid integer",
    ),
    "string where a number belongs is not coerced": (
        {"02-quiz.md": replace_line(QUIZ_MD, 5, 'pass_mark: "50"')},
        "02-quiz.md",
        5,
        "pass_mark: Input should be a valid integer",
    ),
    "wrong value type in a quiz option": (
        {"02-quiz.md": replace_line(QUIZ_MD, 11, "        correct: maybe")},
        "02-quiz.md",
        11,
        "questions.0.options.0.correct",
    ),
    "wrong value type in pack.toml": (
        {"pack.toml": replace_line(PACK_TOML, 2, 'version = "one"')},
        "pack.toml",
        2,
        "version: Input should be a valid integer",
    ),
    "unknown front-matter key": (
        {"01-read.md": insert_line(READ_MD, 3, "colour: red")},
        "01-read.md",
        3,
        "unknown key 'colour'",
    ),
    "body given in front matter": (
        {"01-read.md": insert_line(READ_MD, 3, "body: hello")},
        "01-read.md",
        3,
        "unknown key 'body'",
    ),
    "unknown pack.toml key": (
        {"pack.toml": insert_line(PACK_TOML, 5, 'colour = "red"')},
        "pack.toml",
        5,
        "unknown key 'colour'",
    ),
    "unknown module key": (
        {"pack.toml": PACK_TOML + 'colour = "red"\n'},
        "pack.toml",
        11,
        "unknown key 'modules.0.colour'",
    ),
    "missing required key": (
        {"pack.toml": replace_line(PACK_TOML, 3, "")},
        "pack.toml",
        1,
        "missing required key 'title'",
    ),
    "bad id": (
        {"01-read.md": replace_line(READ_MD, 3, "id: Read Me")},
        "01-read.md",
        3,
        "id: String should match pattern",
    ),
    "step path traversal": (
        {"pack.toml": replace_line(PACK_TOML, 10, 'steps = ["../01-read.md", "02-quiz.md"]')},
        "pack.toml",
        10,
        "must not contain '.', '..'",
    ),
    "absolute step path": (
        {"pack.toml": replace_line(PACK_TOML, 10, 'steps = ["/etc/passwd", "02-quiz.md"]')},
        "pack.toml",
        10,
        "must be relative",
    ),
    "media path traversal in body": (
        {"01-read.md": replace_line(READ_MD, 9, "![x](../secret.svg)")},
        "01-read.md",
        9,
        "'../secret.svg' must not contain",
    ),
    "absolute narration path": (
        {"01-read.md": insert_line(READ_MD, 6, "narration: /etc/passwd")},
        "01-read.md",
        6,
        "must be relative",
    ),
    "image from the internet": (
        {"01-read.md": replace_line(READ_MD, 9, "Text ![x](https://example.org/x.png)")},
        "01-read.md",
        9,
        "must be a file in the programme folder",
    ),
    "audio without its media": (
        {"01-read.md": "---\ntype: audio\nid: read\ntitle: Hear\nduration_seconds: 3\n---\n"},
        "01-read.md",
        1,
        "missing required key 'media'",
    ),
}


@pytest.mark.parametrize(("edits", "file", "line", "message"), CASES.values(), ids=CASES.keys())
def test_each_problem_is_reported_with_file_and_line(
    tmp_path: Path, edits: dict[str, str], file: str, line: int, message: str
) -> None:
    problems = problems_of(write_source(tmp_path, {**BASE, **edits}))

    assert [(p.file, p.line) for p in problems if message in p.message] == [(file, line)], problems


def test_image_on_a_continuation_line_reports_that_line(tmp_path: Path) -> None:
    body_edit = replace_line(READ_MD, 9, "First line\nsecond line ![pic](media/none.svg) here")
    problems = problems_of(write_source(tmp_path, {**BASE, "01-read.md": body_edit}))

    assert [(p.file, p.line) for p in problems] == [("01-read.md", 10)]


def test_symlink_out_of_the_folder_is_rejected(tmp_path: Path) -> None:
    outside = tmp_path / "outside.svg"
    outside.write_text("<svg/>")
    root = write_source(tmp_path / "src", BASE)
    (root / "media" / "pic.svg").unlink()
    (root / "media" / "pic.svg").symlink_to(outside)

    problems = problems_of(root)

    assert [(p.file, p.line, p.message) for p in problems] == [
        ("01-read.md", 9, "media 'media/pic.svg' points outside the programme folder")
    ]


def test_problems_in_several_files_are_all_reported_at_once(tmp_path: Path) -> None:
    files = {
        **BASE,
        "pack.toml": replace_line(
            PACK_TOML, 10, 'steps = ["01-read.md", "02-quiz.md", "03-missing.md", "04-write.md"]'
        ),
        "01-read.md": replace_line(READ_MD, 5, "min_dwell_seconds: -1\ncolour: red"),
        "02-quiz.md": replace_line(QUIZ_MD, 11, "        correct: false"),
        "04-write.md": "---\ntype: reflection\nid: quiz\ntitle: Write\nprompt: Why?\n---\n",
    }

    error_problems = problems_of(write_source(tmp_path, files))

    assert sorted((p.file, p.line) for p in error_problems) == [
        ("01-read.md", 5),
        ("01-read.md", 6),
        ("02-quiz.md", 7),
        ("04-write.md", 3),
        ("pack.toml", 10),
    ]


def test_error_text_lists_one_problem_per_line(tmp_path: Path) -> None:
    files = {**BASE, "01-read.md": replace_line(READ_MD, 2, "type: poem")}
    files["02-quiz.md"] = replace_line(QUIZ_MD, 4, "colour: red")
    with pytest.raises(AuthoringError) as caught:
        load_source(write_source(tmp_path, files))

    lines = str(caught.value).splitlines()

    assert lines[0].startswith("01-read.md:2: unknown step type 'poem'")
    assert lines[1:] == [
        "02-quiz.md:1: missing required key 'title'",
        "02-quiz.md:4: unknown key 'colour'",
    ]


def test_a_folder_without_pack_toml_is_one_problem(tmp_path: Path) -> None:
    assert [p.file for p in problems_of(tmp_path)] == ["pack.toml"]


@pytest.fixture(scope="module")
def sample() -> LoadedSource:
    return load_source(SAMPLE)


def test_the_sample_programme_loads_without_problems(sample: LoadedSource) -> None:
    programme = sample.programme

    assert programme.id == "alcohol-and-you"
    assert 3 <= len(programme.modules) <= 4
    assert 45 <= programme.estimated_minutes <= 60
    assert {s.type for s in programme.all_steps()} == set(STEP_TYPES)


def test_the_sample_packs_every_file_it_references(sample: LoadedSource) -> None:
    referenced = set(sample.programme.media_paths())

    assert referenced <= set(sample.members)
    assert all(path.is_file() for path in sample.members.values())
    assert sum(p.stat().st_size for p in sample.members.values() if "media/" in str(p)) < 50_000


def test_the_sample_uses_an_image_and_real_media(sample: LoadedSource) -> None:
    steps = list(sample.programme.all_steps())

    assert any(isinstance(s, ReadingStep) and s.media for s in steps)
    assert any(isinstance(s, AudioStep) and s.source.endswith(".ogg") for s in steps)
    assert all(q.options for s in steps if isinstance(s, QuizStep) for q in s.questions)
    assert all(
        o.feedback for s in steps if isinstance(s, QuizStep) for q in s.questions for o in q.options
    )


def test_the_sample_signposts_national_helplines(sample: LoadedSource) -> None:
    text = " ".join(s.body for s in sample.programme.all_steps())

    assert "0300 123 1110" in text
    assert "NHS 111" in text
