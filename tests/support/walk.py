"""Doing each step of a programme on the real kiosk window, as a participant would.

Shared by the walk through the whole sample programme (tests/kiosk/ui/test_walk.py) and the
two-kiosk journey against the real server (tests/sync/test_two_kiosks.py). Each step is done
by its type, from the programme model; time is the core's ManualClock, nothing sleeps.
"""

from __future__ import annotations

import pytest
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextBrowser,
    QWidget,
)
from pytestqt.exceptions import TimeoutError as QtTimeoutError
from pytestqt.qtbot import QtBot

from content_packs import model
from kiosk_app.core.player import ProgrammePlayer
from kiosk_app.store import repos
from kiosk_app.ui.steps.media import MediaView
from kiosk_app.ui.steps.quiz import QuizView
from kiosk_app.ui.steps.text_entry import TextEntryView
from tests.support.kiosk import Seeded
from tests.support.kiosk_ui import KioskUnderTest, Participant

OWN_PIN = "482916"
# Media play for real from the pack, eight times faster than life.
PLAYBACK_RATE = 8.0
# A headless box has no sound server or GPU: QtMultimedia says so, then plays regardless.
HEADLESS_MEDIA = pytest.mark.qt_log_ignore(
    r"Couldn't (load|resolve) pipewire",
    r"pa_context_connect",
    r"No audio device detected",
    r"No RHI backend",
    r"This plugin does not support (propagateSizeHints|raise)\(\)",
)


def current(kiosk: KioskUnderTest) -> ProgrammePlayer:
    player = kiosk.presenter.player.player
    assert player is not None, "no step is open"
    return player


def next_enabled(person: Participant) -> bool:
    return person.button("next").isEnabled()


def choose(
    person: Participant, view: QuizView, answers: dict[str, int], step: model.QuizStep
) -> None:
    """Tap one option per question, moving on with "next question", then check."""
    for number, question in enumerate(step.questions):
        person.tap(question.options[answers[question.id]].text, view)
        if number < len(step.questions) - 1:
            person.tap("next question", view)
    person.tap("check my answers", view)


def wrong_answers(step: model.QuizStep) -> dict[str, int] | None:
    """All-wrong answers that must fail the pass mark, or None if this quiz cannot be failed."""
    wrong = {
        q.id: next((i for i, o in enumerate(q.options) if not o.correct), -1)
        for q in step.questions
    }
    if step.pass_mark == 0 or -1 in wrong.values():
        return None
    return wrong


def right_answers(step: model.QuizStep) -> dict[str, int]:
    return {q.id: next(i for i, o in enumerate(q.options) if o.correct) for q in step.questions}


def words(count: int) -> str:
    """Short words: every key typed is a real key event (and an autosave)."""
    return " ".join("ok" for _ in range(count))


class Walk:
    """Does each step by its type; remembers the one-off detours it has taken."""

    def __init__(
        self,
        qtbot: QtBot,
        kiosk: KioskUnderTest,
        person: Participant,
        seeded: Seeded,
        *,
        own_pin: str = OWN_PIN,
    ) -> None:
        self.qtbot, self.kiosk, self.person, self.seeded = qtbot, kiosk, person, seeded
        self.own_pin = own_pin  # what the participant signs in with again after the idle logout
        self.failed_quiz: str | None = None
        self.short_text: str | None = None
        self.idle_logout: str | None = None

    def do(self, step: model.Step) -> None:
        view = self.kiosk.presenter.player.view()
        assert view is not None
        self.qtbot.waitUntil(view.isVisible)  # a new view shows once the event loop runs
        if isinstance(step, model.ReadingStep):
            self.read(step)
        elif isinstance(step, model.AudioStep | model.VideoStep):
            assert isinstance(view, MediaView)
            self.play(view, step)
        elif isinstance(step, model.QuizStep):
            assert isinstance(view, QuizView)
            self.quiz(view, step)
        elif isinstance(step, model.ReflectionStep | model.LetterStep):
            assert isinstance(view, TextEntryView)
            self.write(view, step)
        elif isinstance(step, model.PledgeStep):
            for item in step.items[: step.min_items]:
                self.person.tap(item, view)
            self.person.tap("save my plan", view)
        else:
            self.person.tap("confirm", view)
        self.qtbot.waitUntil(lambda: next_enabled(self.person))

    def read(self, step: model.ReadingStep) -> None:
        if step.min_dwell_seconds > 0 and self.required(step):
            assert not next_enabled(self.person), "Next before the minimum reading time"
            self.kiosk.clock.advance(step.min_dwell_seconds - 1)
            self.kiosk.presenter.player.refresh()
            assert not next_enabled(self.person)
        self.kiosk.clock.advance(max(1, step.min_dwell_seconds) if not self.required(step) else 1)

    def required(self, step: model.Step) -> bool:
        """Whether the step holds the next one back (an optional step never does)."""
        programme = current(self.kiosk).programme
        return step.required and programme.module_of(step.id).required

    def play(self, view: MediaView, step: model.Step) -> None:
        if self.required(step):
            assert not next_enabled(self.person), "Next before the media was played"
        self.qtbot.waitUntil(lambda: self.person.button("play", view).isEnabled(), timeout=10_000)
        view.set_playback_rate(PLAYBACK_RATE)
        self.person.tap("play", view)
        # 12 s of video at 8x is 1.5 s; a loaded CI machine decodes far slower than that.
        try:
            self.qtbot.waitUntil(lambda: next_enabled(self.person), timeout=60_000)
        except QtTimeoutError as exc:
            player = view.player
            raise AssertionError(
                f"Next stayed off after playing {step.id}: state {player.playbackState()},"
                f" status {player.mediaStatus()}, at {player.position()} of"
                f" {player.duration()} ms, rate {player.playbackRate()},"
                f" covered {view.covered_fraction():.2f}, error {player.errorString()!r}"
            ) from exc

    def quiz(self, view: QuizView, step: model.QuizStep) -> None:
        wrong = wrong_answers(step)
        if self.failed_quiz is None and wrong is not None:
            choose(self.person, view, wrong, step)
            assert "try again" in view.summary_text().lower()
            assert len(view.feedback_texts()) == len(step.questions)
            assert not next_enabled(self.person)
            self.person.tap("try again", view)
            self.failed_quiz = step.id
        choose(self.person, view, right_answers(step), step)
        assert view.summary_text().startswith("Well done")

    def write(self, view: TextEntryView, step: model.ReflectionStep | model.LetterStep) -> None:
        editor = view.findChild(QPlainTextEdit)
        assert editor is not None
        editor.setFocus()
        if self.short_text is None and step.min_words > 1:
            QTest.keyClicks(editor, "It was fun")
            self.person.tap("submit", view)
            message = [m.text() for m in view.findChildren(QLabel) if "more word" in m.text()]
            assert message == [f"Please write {step.min_words - 3} more words."]
            assert not next_enabled(self.person)
            self.short_text = step.id
        elif self.idle_logout is None:
            self.idle_logout = step.id
            self.leave_mid_step(view, step)
            view = self.reopened_text_view(step)
            editor = view.findChild(QPlainTextEdit)
            assert editor is not None
            editor.setFocus()
            editor.moveCursor(editor.textCursor().MoveOperation.End)
        QTest.keyClicks(editor, " " + words(step.min_words))
        self.person.tap("submit", view)
        assert "Saved." in [m.text() for m in view.findChildren(QLabel)]

    def leave_mid_step(self, view: TextEntryView, step: model.Step) -> None:
        """Type half an answer, walk away: warning, countdown, logout, a cleared screen."""
        editor = view.findChild(QPlainTextEdit)
        assert editor is not None
        QTest.keyClicks(editor, "Half of what I think")
        with self.kiosk.services.store.unit() as s:
            settings = repos.settings(s)
        overlay = self.kiosk.window.idle_overlay
        assert not overlay.isVisible()
        timeout, warning = settings.idle_timeout_seconds, settings.idle_warning_seconds
        self.kiosk.clock.advance(timeout - warning + 1)
        self.qtbot.waitUntil(overlay.isVisible)
        assert 0 < overlay.seconds_left() < warning
        self.kiosk.clock.advance(warning)
        self.person.wait_for_screen("welcome")
        assert not overlay.isVisible()
        assert self.kiosk.presenter.player.view() is None
        assert self.kiosk.services.session.signed_in is None
        shown = visible_texts(self.kiosk)
        assert isinstance(step, model.ReflectionStep | model.LetterStep)
        for private in ("Half of what I think", step.prompt):
            assert not any(private in text for text in shown), f"{private!r} still on screen"

    def reopened_text_view(self, step: model.Step) -> TextEntryView:
        self.person.sign_in(self.seeded.access_code, self.own_pin)
        self.person.wait_for_screen("home")
        self.person.tap("Continue")
        self.person.wait_for_screen("step")
        assert current(self.kiosk).current_step_id == step.id
        view = self.kiosk.presenter.player.view()
        assert isinstance(view, TextEntryView)
        self.qtbot.waitUntil(view.isVisible)
        assert view.text() == "Half of what I think"
        return view


def visible_texts(kiosk: KioskUnderTest) -> list[str]:
    """Everything a passer-by could read on the window now."""
    window = kiosk.window
    shown = [w for w in window.findChildren(QWidget) if w.isVisible()]
    texts = [w.text() for w in shown if isinstance(w, QLabel | QLineEdit) and w.text()]
    texts += [w.toPlainText() for w in shown if isinstance(w, QPlainTextEdit | QTextBrowser)]
    return [t for t in texts if t]
