"""Step views: each shows its content, emits the right signal, and works by keyboard alone."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QBuffer, QIODevice, Qt
from PySide6.QtGui import QColor, QImage, QImageWriter, QTextDocument
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QApplication,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextBrowser,
    QWidget,
)
from pytestqt.qtbot import QtBot

from content_packs.pack import MemberIntegrityError
from kiosk_app.core.step_results import QuestionFeedback, QuizFeedback
from kiosk_app.ui.steps.checkpoint import CheckpointView
from kiosk_app.ui.steps.frame import HelpContact, StepFrame
from kiosk_app.ui.steps.media import MediaView
from kiosk_app.ui.steps.pledge import PledgeContent, PledgeView
from kiosk_app.ui.steps.quiz import QuestionContent, QuizContent, QuizResult, QuizView
from kiosk_app.ui.steps.reading import ReadingContent, ReadingView
from kiosk_app.ui.steps.text_entry import TextEntryView
from kiosk_app.ui.widgets.choice import ChoiceButton
from tests.kiosk.ui.conftest import button_named

INTERACTIVE = (QAbstractButton, QLineEdit, QPlainTextEdit, QTextBrowser, QAbstractSlider)


def shown(qtbot: QtBot, widget: QWidget) -> None:
    """Show the view and give it focus, as the presenter does when a step comes up."""
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow)
    widget.setFocus(Qt.FocusReason.OtherFocusReason)


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def unnamed_controls(root: QWidget) -> list[str]:
    return [
        f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}"
        for w in root.findChildren(QWidget)
        if isinstance(w, INTERACTIVE) and not w.accessibleName()
    ]


def visible_texts(root: QWidget) -> list[str]:
    return [w.text() for w in root.findChildren(QLabel) if w.isVisible() and w.text()]


def image(colour: str, width: int = 4, height: int = 3) -> bytes:
    picture = QImage(width, height, QImage.Format.Format_RGB32)
    picture.fill(QColor(colour))
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert QImageWriter(buffer, b"png").write(picture)
    return bytes(buffer.data().data())


SVG = b"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 2000 500" width="2000" height="500">
<rect width="2000" height="500" fill="#21594A"/></svg>"""


# -- the frame ----------------------------------------------------------------------------------


def test_frame_shows_position_and_next_follows_the_presenter(qtbot: QtBot) -> None:
    frame = StepFrame()
    shown(qtbot, frame)
    frame.set_title("Thinking about harm")
    frame.set_position(4, 15)
    assert frame.position_text() == "Step 4 of 15"
    assert "Thinking about harm" in visible_texts(frame)
    assert not button_named(frame, "next").isEnabled()
    frame.set_next_enabled(True)
    with qtbot.waitSignal(frame.next_requested):
        QTest.mouseClick(button_named(frame, "next"), Qt.MouseButton.LeftButton)


@pytest.mark.parametrize(
    ("name", "signal"),
    [
        ("back", "back_requested"),
        ("take a break", "break_requested"),
        ("read aloud", "read_aloud_requested"),
        ("next", "next_requested"),
    ],
)
def test_frame_buttons_work_by_keyboard(qtbot: QtBot, name: str, signal: str) -> None:
    frame = StepFrame()
    shown(qtbot, frame)
    frame.set_next_enabled(True)
    button = button_named(frame, name)
    button.setFocus()
    with qtbot.waitSignal(getattr(frame, signal)):
        QTest.keyClick(button, Qt.Key.Key_Return)
    with qtbot.waitSignal(getattr(frame, signal)):
        QTest.keyClick(button, Qt.Key.Key_Space)


def test_read_aloud_shows_only_when_it_is_on(qtbot: QtBot) -> None:
    frame = StepFrame()
    shown(qtbot, frame)
    frame.set_read_aloud_available(False)
    assert not button_named(frame, "read aloud").isVisible()
    frame.set_read_aloud_available(True)
    assert button_named(frame, "read aloud").isVisible()


def test_frame_shows_the_programmes_help_under_every_step(qtbot: QtBot) -> None:
    frame = StepFrame()
    shown(qtbot, frame)
    assert frame.help_text() == ""
    frame.set_help(
        [
            HelpContact("National Domestic Abuse Helpline", "0808 2000 247", None, "24 hours"),
            HelpContact("Drinkline", None, "https://example.org/drinkline"),
        ]
    )
    assert frame.help_text() == (
        "Need help or someone to talk to? "
        "National Domestic Abuse Helpline: 0808 2000 247 (24 hours)"
        " · Drinkline: https://example.org/drinkline"
    )
    frame.set_view(ReadingView())
    assert frame.help_text() in visible_texts(frame)


def test_a_new_step_view_replaces_the_old_one_at_once(qtbot: QtBot) -> None:
    frame = StepFrame()
    shown(qtbot, frame)
    first, second = CheckpointView(), CheckpointView()
    frame.set_view(first)
    assert first.isVisible()
    with qtbot.waitSignal(first.destroyed):
        frame.set_view(second)
        assert not first.isVisible()
        assert second.isVisible()
    assert frame.view() is second


# -- reading ------------------------------------------------------------------------------------


def test_reading_renders_markdown_and_loads_images_from_the_pack_only(qtbot: QtBot) -> None:
    asked: list[str] = []

    def loader(name: str) -> bytes | None:
        asked.append(name)
        return image("#21594A") if name == "media/picture.png" else None

    view = ReadingView(loader)
    shown(qtbot, view)
    view.set_content(
        ReadingContent(
            title="What happened",
            markdown="# Harm\n\nSome **words**.\n\n![a picture](media/picture.png)\n\n"
            "![missing](/etc/hostname)\n\n![outside](../secret.png)",
        )
    )
    assert "Some words." in view.plain_text()
    assert view.plain_text().startswith("What happened\nHarm")
    picture = view.document().resource(
        QTextDocument.ResourceType.ImageResource.value, "media/picture.png"
    )
    assert isinstance(picture, QImage)
    assert picture.width() == 4
    assert "media/picture.png" in asked
    assert "etc/hostname" in asked  # asked of the pack, never read from the disk
    assert not any("secret" in name for name in asked)  # no way out of the pack


def test_a_picture_that_fails_its_check_is_left_out(qtbot: QtBot) -> None:
    def loader(name: str) -> bytes | None:
        raise MemberIntegrityError(f"member {name!r} block 0 does not match the signed manifest")

    view = ReadingView(loader)
    shown(qtbot, view)
    view.set_content(ReadingContent(title="", markdown="Before.\n\n![x](media/x.png)\n\nAfter."))
    assert view.plain_text().split() == ["Before.", "After."]
    picture = view.document().resource(
        QTextDocument.ResourceType.ImageResource.value, "media/x.png"
    )
    assert picture is None


def test_a_wide_svg_is_drawn_to_fit_the_reading(qtbot: QtBot) -> None:
    view = ReadingView(lambda name: SVG if name == "media/chart.svg" else None)
    shown(qtbot, view)
    view.set_content(ReadingContent(title="", markdown="![A chart](media/chart.svg)"))
    picture = view.document().resource(
        QTextDocument.ResourceType.ImageResource.value, "media/chart.svg"
    )
    assert isinstance(picture, QImage)
    assert 300 <= picture.width() < 900
    assert picture.height() == pytest.approx(picture.width() / 4, abs=1)
    assert picture.pixelColor(picture.width() // 2, picture.height() // 2) == QColor("#21594A")


def test_the_reading_scrolls_by_keyboard(qtbot: QtBot) -> None:
    view = ReadingView()
    shown(qtbot, view)
    view.set_content(ReadingContent(title="Long", markdown="\n\n".join(["A line."] * 200)))
    (browser,) = view.findChildren(QTextBrowser)
    assert browser.hasFocus()
    bar = browser.verticalScrollBar()
    assert bar.value() == 0
    QTest.keyClick(browser, Qt.Key.Key_PageDown)
    assert bar.value() > 0


# -- quiz ---------------------------------------------------------------------------------------

QUIZ = QuizContent(
    title="Check what you know",
    questions=(
        QuestionContent("q1", "Who is affected by graffiti?", ("Nobody", "The owner")),
        QuestionContent("q2", "What can you do?", ("Say sorry", "Nothing")),
    ),
)


def feedback(*, passed: bool, attempts_left: int | None) -> QuizFeedback:
    return QuizFeedback(
        questions=(
            QuestionFeedback("q1", 0, False, "Think about who pays to clean it."),
            QuestionFeedback("q2", 0, True, "Yes, that helps."),
        ),
        score=2 if passed else 1,
        total=2,
        passed=passed,
        attempt=1,
        attempts_left=attempts_left,
    )


@pytest.fixture
def quiz(qtbot: QtBot) -> QuizView:
    view = QuizView()
    view.set_content(QUIZ)
    shown(qtbot, view)
    return view


def test_quiz_one_at_a_time_by_mouse_emits_the_answers(qtbot: QtBot, quiz: QuizView) -> None:
    assert "Question 1 of 2" in visible_texts(quiz)
    assert not button_named(quiz, "check my answers").isEnabled()
    assert not button_named(quiz, "next question").isEnabled()
    QTest.mouseClick(button_named(quiz, "The owner"), Qt.MouseButton.LeftButton)
    QTest.mouseClick(button_named(quiz, "next question"), Qt.MouseButton.LeftButton)
    assert "Question 2 of 2" in visible_texts(quiz)
    assert button_named(quiz, "Say sorry").isVisible()
    assert not button_named(quiz, "The owner").isVisible()
    QTest.mouseClick(button_named(quiz, "Say sorry"), Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(quiz.answers_submitted) as blocker:
        QTest.mouseClick(button_named(quiz, "check my answers"), Qt.MouseButton.LeftButton)
    assert blocker.args == [{"q1": 1, "q2": 0}]


def test_quiz_by_keyboard_alone(qtbot: QtBot, quiz: QuizView) -> None:
    # The options of a question are one group, like radio buttons: arrows move between them.
    assert button_named(quiz, "Nobody").hasFocus()
    QTest.keyClick(focused(), Qt.Key.Key_Down)
    assert button_named(quiz, "The owner").hasFocus()
    QTest.keyClick(focused(), Qt.Key.Key_Space)  # choose it; focus moves on to...
    assert button_named(quiz, "next question").hasFocus()
    QTest.keyClick(focused(), Qt.Key.Key_Return)
    assert button_named(quiz, "Say sorry").hasFocus()
    QTest.keyClick(focused(), Qt.Key.Key_Space)
    assert button_named(quiz, "check my answers").hasFocus()
    with qtbot.waitSignal(quiz.answers_submitted) as blocker:
        QTest.keyClick(focused(), Qt.Key.Key_Return)
    assert blocker.args == [{"q1": 1, "q2": 0}]


def test_going_back_shows_the_earlier_choice(qtbot: QtBot, quiz: QuizView) -> None:
    QTest.mouseClick(button_named(quiz, "The owner"), Qt.MouseButton.LeftButton)
    QTest.mouseClick(button_named(quiz, "next question"), Qt.MouseButton.LeftButton)
    QTest.mouseClick(button_named(quiz, "previous question"), Qt.MouseButton.LeftButton)
    assert button_named(quiz, "The owner").isChecked()
    assert button_named(quiz, "The owner").hasFocus()
    assert quiz.answers() == {"q1": 1}


def test_every_choice_is_announced_for_autosave(qtbot: QtBot, quiz: QuizView) -> None:
    with qtbot.waitSignal(quiz.answers_changed) as blocker:
        QTest.mouseClick(button_named(quiz, "The owner"), Qt.MouseButton.LeftButton)
    assert blocker.args == [{"q1": 1}]
    QTest.mouseClick(button_named(quiz, "next question"), Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(quiz.answers_changed) as blocker:
        QTest.mouseClick(button_named(quiz, "Say sorry"), Qt.MouseButton.LeftButton)
    assert blocker.args == [{"q1": 1, "q2": 0}]


def test_saved_choices_come_back_at_the_first_question_without_one(
    qtbot: QtBot, quiz: QuizView
) -> None:
    with qtbot.assertNotEmitted(quiz.answers_changed):
        quiz.set_answers({"q1": 1})
    assert "Question 2 of 2" in visible_texts(quiz)
    assert button_named(quiz, "Say sorry").isVisible()
    QTest.mouseClick(button_named(quiz, "previous question"), Qt.MouseButton.LeftButton)
    assert button_named(quiz, "The owner").isChecked()


def test_a_question_s_options_are_made_when_it_first_shows(qtbot: QtBot, quiz: QuizView) -> None:
    """One question at a time, a quiz shows after Next with the first question's options
    made, not every question's (the other questions cost their time when reached)."""

    def made() -> list[str]:
        return sorted(b.choice_text() for b in quiz.findChildren(ChoiceButton))

    assert made() == ["Nobody", "The owner"]
    QTest.mouseClick(button_named(quiz, "The owner"), Qt.MouseButton.LeftButton)
    QTest.mouseClick(button_named(quiz, "next question"), Qt.MouseButton.LeftButton)
    assert made() == ["Nobody", "Nothing", "Say sorry", "The owner"]
    quiz.set_content(QUIZ)  # the next quiz starts from nothing made again
    assert made() == ["Nobody", "The owner"]
    # A draft with a later question answered (first question still open) is all shown.
    quiz.set_answers({"q2": 1})
    assert "Question 1 of 2" in visible_texts(quiz)
    assert not button_named(quiz, "check my answers").isEnabled()
    QTest.mouseClick(button_named(quiz, "Nobody"), Qt.MouseButton.LeftButton)
    QTest.mouseClick(button_named(quiz, "next question"), Qt.MouseButton.LeftButton)
    assert button_named(quiz, "Nothing").isChecked()
    assert button_named(quiz, "check my answers").isEnabled()
    assert quiz.answers() == {"q1": 0, "q2": 1}


def test_quiz_shows_kind_feedback_on_every_question_and_try_again(
    qtbot: QtBot, quiz: QuizView
) -> None:
    quiz.set_answers({"q1": 0, "q2": 0})
    quiz.show_result(QuizResult.from_feedback(feedback(passed=False, attempts_left=1)))
    assert quiz.summary_text() == "You got 1 out of 2. Read the notes and try again."
    assert quiz.feedback_texts() == [
        "✗ Not quite. Think about who pays to clean it.",
        "✓ Right. Yes, that helps.",
    ]
    # Every question shows with its feedback once marked, not just the last one seen.
    assert button_named(quiz, "Nobody").isVisible()
    assert button_named(quiz, "Say sorry").isVisible()
    assert not button_named(quiz, "Nobody").isEnabled()
    assert button_named(quiz, "try again").hasFocus()
    with qtbot.waitSignal(quiz.retry_requested):
        QTest.keyClick(button_named(quiz, "try again"), Qt.Key.Key_Return)
    assert quiz.answers() == {}
    assert quiz.summary_text() == ""
    assert quiz.feedback_texts() == []
    assert button_named(quiz, "Nobody").isEnabled()
    assert not button_named(quiz, "Say sorry").isVisible()  # back to question 1


@pytest.mark.parametrize(
    ("passed", "attempts_left", "summary", "retry"),
    [
        (True, None, "Well done! You got 2 out of 2.", False),
        (False, None, "You got 1 out of 2. Read the notes and try again.", True),
        (False, 2, "You got 1 out of 2. Read the notes and try again.", True),
        (False, 0, "You got 1 out of 2. An officer can help you with this.", False),
    ],
)
def test_quiz_result_lines(
    quiz: QuizView, passed: bool, attempts_left: int | None, summary: str, retry: bool
) -> None:
    quiz.show_result(QuizResult.from_feedback(feedback(passed=passed, attempts_left=attempts_left)))
    assert quiz.summary_text() == summary
    assert summary in visible_texts(quiz)
    assert button_named(quiz, "try again").isVisible() is retry
    assert not button_named(quiz, "check my answers").isVisible()


def test_quiz_all_at_once_shows_every_question(qtbot: QtBot, quiz: QuizView) -> None:
    quiz.set_content(QuizContent(title="All", questions=QUIZ.questions, one_at_a_time=False))
    assert button_named(quiz, "Nobody").isVisible()
    assert button_named(quiz, "Say sorry").isVisible()
    assert not button_named(quiz, "next question").isVisible()
    QTest.mouseClick(button_named(quiz, "Nobody"), Qt.MouseButton.LeftButton)
    QTest.mouseClick(button_named(quiz, "Nothing"), Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(quiz.answers_submitted) as blocker:
        QTest.mouseClick(button_named(quiz, "check my answers"), Qt.MouseButton.LeftButton)
    assert blocker.args == [{"q1": 0, "q2": 1}]


def test_a_quiz_without_questions_shows_without_failing(qtbot: QtBot) -> None:
    for one_at_a_time in (True, False):
        view = QuizView()
        qtbot.addWidget(view)
        view.set_content(QuizContent(title="Empty", questions=(), one_at_a_time=one_at_a_time))
        view.set_answers({"q1": 0})
        view.show_result(QuizResult(questions=(), score=0, total=0, passed=True, can_retry=False))
        assert view.answers() == {}
        assert not button_named(view, "check my answers").isVisible()


def test_quiz_read_aloud_says_what_is_on_screen(quiz: QuizView) -> None:
    assert quiz.plain_text().splitlines() == [
        "Check what you know",
        "Who is affected by graffiti?",
        "Nobody",
        "The owner",
    ]


def test_long_options_wrap_instead_of_widening_the_quiz(qtbot: QtBot) -> None:
    long = "A long answer that goes on and on " * 6
    view = QuizView()
    view.set_content(QuizContent(title="", questions=(QuestionContent("q", "Q?", (long, "B")),)))
    shown(qtbot, view)
    view.resize(600, 700)
    option = button_named(view, long)
    qtbot.waitUntil(lambda: option.width() <= 600)
    assert option.height() > button_named(view, "B").height()


# -- accessibility ------------------------------------------------------------------------------

FACTORIES: list[tuple[str, Callable[[], QWidget]]] = [
    ("frame", StepFrame),
    ("reading", ReadingView),
    ("media", MediaView),
    ("quiz", QuizView),
    ("text", TextEntryView),
    ("pledge", PledgeView),
    ("checkpoint", CheckpointView),
]


@pytest.mark.parametrize(("kind", "factory"), FACTORIES, ids=[k for k, _ in FACTORIES])
def test_every_control_has_an_accessible_name(
    qtbot: QtBot, kind: str, factory: Callable[[], QWidget]
) -> None:
    view = factory()
    if isinstance(view, QuizView):
        view.set_content(QUIZ)
    elif isinstance(view, PledgeView):
        view.set_content(PledgeContent(title="Plan", items=("Walk away",)))
    shown(qtbot, view)
    assert unnamed_controls(view) == []
