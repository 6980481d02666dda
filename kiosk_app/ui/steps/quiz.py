"""Quiz steps: big option buttons, one question at a time, kind feedback, try again."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kiosk_app.core.step_results import QuizFeedback
from kiosk_app.ui.steps.common import button, label, name_scroll_bars
from kiosk_app.ui.widgets.choice import ChoiceButton


@dataclass(frozen=True, slots=True)
class QuestionContent:
    question_id: str
    prompt: str
    options: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QuizContent:
    title: str
    questions: tuple[QuestionContent, ...]
    one_at_a_time: bool = True


@dataclass(frozen=True, slots=True)
class QuestionResult:
    question_id: str
    correct: bool
    feedback: str  # from the pack, already in the programme's language


@dataclass(frozen=True, slots=True)
class QuizResult:
    """What the view shows after an attempt; built from the core's QuizFeedback."""

    questions: tuple[QuestionResult, ...]
    score: int
    total: int
    passed: bool
    can_retry: bool

    @classmethod
    def from_feedback(cls, feedback: QuizFeedback) -> QuizResult:
        return cls(
            questions=tuple(
                QuestionResult(q.question_id, q.correct, q.feedback) for q in feedback.questions
            ),
            score=feedback.score,
            total=feedback.total,
            passed=feedback.passed,
            can_retry=not feedback.passed
            and (feedback.attempts_left is None or feedback.attempts_left > 0),
        )


class _QuestionPanel(QWidget):
    """One question: its prompt, an option button each, and the feedback line once marked."""

    def __init__(self, question: QuestionContent, parent: QWidget) -> None:
        super().__init__(parent)
        self.question = question
        self.prompt = label("title")
        self.prompt.setText(question.prompt)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.feedback = label()
        self.feedback.hide()
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.addWidget(self.prompt)
        for index, text in enumerate(question.options):
            option = ChoiceButton(text, self)
            option.setAccessibleDescription(question.prompt)
            self.group.addButton(option, index)
            layout.addWidget(option)
        layout.addWidget(self.feedback)

    def chosen(self) -> int:
        return self.group.checkedId()

    def focus_target(self) -> QWidget | None:
        """Where the keyboard starts on this question: the chosen option, else the first."""
        chosen = self.group.checkedButton()
        buttons = self.group.buttons()
        return chosen or (buttons[0] if buttons else None)

    def set_options_enabled(self, enabled: bool) -> None:
        for option in self.group.buttons():
            option.setEnabled(enabled)

    def reset(self) -> None:
        self.group.setExclusive(False)
        for option in self.group.buttons():
            option.setChecked(False)
        self.group.setExclusive(True)
        self.set_options_enabled(True)
        self.feedback.clear()
        self.feedback.hide()


class QuizView(QWidget):
    """Emits `answers_submitted({question_id: option_index})`; `show_result` shows the marking.

    The core marks each attempt; this view only collects choices and shows its answer: a
    kind line under every question, the score, and "Try again" while attempts are left.
    `answers_changed(answers)` fires at every choice the participant makes (for autosave).

    One question at a time, a question's panel is built when it is first shown: the step
    appears after Next with one question's buttons made, not all of them (a quiz of four
    questions was the slowest step to show).
    """

    answers_submitted = Signal(dict)
    answers_changed = Signal(dict)
    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._content = QuizContent(title="", questions=())
        self._panels: list[_QuestionPanel] = []  # the first questions, built as they show
        self._holder: QWidget  # the scroll area's content and its column (`_build_panels`)
        self._column: QVBoxLayout
        self._index = 0
        self._result: QuizResult | None = None
        self._title = label("title")
        self._counter = label("hint", wrap=False)
        self._scroll = QScrollArea(self)
        self._scroll.setWidgetResizable(True)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Not a stop of its own: it scrolls to whichever control inside takes the focus.
        self._scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self._previous = button()
        self._previous.clicked.connect(lambda: self._go(self._index - 1, focus=True))
        self._following = button()
        self._following.clicked.connect(lambda: self._go(self._index + 1, focus=True))
        self._check = button("primary")
        self._check.clicked.connect(self._submit)
        self._retry = button()
        self._retry.clicked.connect(self._on_retry)
        self._summary = label("countdown")
        self._summary.hide()
        # One row below the questions: moving between them, or the result and "Try again".
        nav = QHBoxLayout()
        nav.setSpacing(16)
        nav.addWidget(self._previous)
        nav.addWidget(self._following)
        nav.addWidget(self._summary, 1)
        nav.addStretch(0)
        nav.addWidget(self._retry)
        nav.addWidget(self._check)
        heading = QHBoxLayout()
        heading.addWidget(self._title, 1)
        heading.addWidget(self._counter, 0, Qt.AlignmentFlag.AlignRight)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(heading)
        layout.addWidget(self._scroll, 1)
        layout.addLayout(nav)
        self._build_panels()
        self._retranslate()

    # -- public API ---------------------------------------------------------------------------

    def set_content(self, content: QuizContent) -> None:
        """Show the quiz's questions, nothing chosen, the first question first."""
        self._content = content
        self._title.setText(content.title)
        self._title.setVisible(bool(content.title))
        self._result = None
        self._build_panels()
        self._go(0)

    def set_answers(self, answers: dict[str, int]) -> None:
        """Show earlier choices (e.g. a draft) without emitting anything, at the first
        question still without a choice (the last one when all have one)."""
        questions = self._content.questions
        for number, question in enumerate(questions):
            index = answers.get(question.question_id)
            if index is None:
                continue
            option = self._panel(number).group.button(index)
            if option is not None:
                option.setChecked(True)
        open_questions = (i for i in range(len(questions)) if self._chosen(i) < 0)
        self._go(next(open_questions, len(questions) - 1))

    def answers(self) -> dict[str, int]:
        """The options chosen so far."""
        return {p.question.question_id: p.chosen() for p in self._panels if p.chosen() >= 0}

    def show_result(self, result: QuizResult) -> None:
        """Show the marking: every question with its kind line, the score, maybe "Try again"."""
        self._result = result
        by_id = {q.question_id: q for q in result.questions}
        self._build_all()  # every question shows with its mark
        for panel in self._panels:
            panel.set_options_enabled(False)
            marked = by_id.get(panel.question.question_id)
            if marked is not None:
                mark = self.tr("✓ Right.") if marked.correct else self.tr("✗ Not quite.")
                panel.feedback.setText(" ".join(filter(None, [mark, marked.feedback])))
                panel.feedback.show()
        self._update()
        if result.can_retry:
            self._retry.setFocus(Qt.FocusReason.OtherFocusReason)

    def summary_text(self) -> str:
        """The result line now shown (empty before marking)."""
        return self._summary.text() if self._result is not None else ""

    def feedback_texts(self) -> list[str]:
        """The feedback line under each marked question, in order."""
        return [p.feedback.text() for p in self._panels if not p.feedback.isHidden()]

    def reset(self) -> None:
        """Clear every choice and the marking, for another attempt."""
        self._result = None
        for panel in self._panels:
            panel.reset()
        self._go(0, focus=True)

    def plain_text(self) -> str:
        """What is on screen, for read-aloud: the question(s) shown, options, any marking."""
        lines = [self._title.text()]
        for panel in self._panels:
            if panel.isHidden():
                continue
            lines.append(panel.question.prompt)
            lines.extend(panel.question.options)
            if not panel.feedback.isHidden():
                lines.append(panel.feedback.text())
        lines.append(self.summary_text())
        return "\n".join(filter(None, lines))

    # -- internals ----------------------------------------------------------------------------

    def _build_panels(self) -> None:
        # Built inside the scroll area, parent first: a finished tree given a parent later
        # has its style and fonts worked out again, widget by widget.
        self._holder = holder = QWidget(self._scroll.viewport())
        self._column = QVBoxLayout(holder)
        self._column.setSpacing(24)
        self._column.addStretch(1)
        self._panels = []
        self._scroll.setWidget(holder)  # deletes the previous questions at once
        if not self._content.one_at_a_time:
            self._build_all()

    def _panel(self, index: int) -> _QuestionPanel:
        """Question `index`'s panel, building it (and any before it) if not yet built."""
        while len(self._panels) <= index:
            panel = _QuestionPanel(self._content.questions[len(self._panels)], self._holder)
            panel.group.idClicked.connect(self._on_choice)
            panel.hide()  # until `_update` shows the ones it should (it always runs next)
            self._column.insertWidget(len(self._panels), panel)  # above the stretch
            self._panels.append(panel)
        return self._panels[index]

    def _build_all(self) -> None:
        if self._content.questions:
            self._panel(len(self._content.questions) - 1)

    def _chosen(self, index: int) -> int:
        """The option chosen for question `index` (-1 for none, as for a panel not built)."""
        return self._panels[index].chosen() if index < len(self._panels) else -1

    def _all_chosen(self) -> bool:
        count = len(self._content.questions)
        return count > 0 and all(self._chosen(i) >= 0 for i in range(count))

    def _on_choice(self, _index: int) -> None:
        self._update()
        self.answers_changed.emit(self.answers())
        more = self._content.one_at_a_time and self._index < len(self._content.questions) - 1
        (self._following if more else self._check).setFocus(Qt.FocusReason.OtherFocusReason)

    def _one_at_a_time(self) -> bool:
        # Once marked, every question shows with its feedback.
        questions = self._content.questions
        return self._content.one_at_a_time and len(questions) > 1 and self._result is None

    def _go(self, index: int, *, focus: bool = False) -> None:
        self._index = max(0, min(index, len(self._content.questions) - 1))
        if self._content.questions:
            self._panel(self._index)
        self._update()
        target = self.focusProxy()
        if focus and target is not None:
            target.setFocus(Qt.FocusReason.OtherFocusReason)

    def _update(self) -> None:
        one = self._one_at_a_time()
        for i, panel in enumerate(self._panels):
            panel.setVisible(not one or i == self._index)
        marked = self._result is not None
        self._previous.setVisible(one and self._index > 0)
        self._following.setVisible(one and self._index < len(self._content.questions) - 1)
        self._following.setEnabled(self._chosen(self._index) >= 0)
        self._check.setVisible(not marked)
        self._check.setEnabled(self._all_chosen())
        self._retry.setVisible(marked and self._result is not None and self._result.can_retry)
        self._summary.setVisible(marked)
        self._counter.setVisible(one)
        self._scroll.ensureVisible(0, 0)
        # Focus given to the quiz (the presenter shows a step) lands on the right control.
        shown = self._panels[self._index] if self._index < len(self._panels) else None
        target = shown.focus_target() if shown is not None else None
        if marked or target is None:
            retry = self._retry.isVisibleTo(self)
            self.setFocusProxy(self._retry if retry else self._scroll)
        else:
            self.setFocusProxy(target)
        self._retranslate()

    def _submit(self) -> None:
        if self._result is None and self._all_chosen():
            self.answers_submitted.emit(self.answers())

    def _on_retry(self) -> None:
        self.reset()
        self.retry_requested.emit()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
            if self._result is not None:
                self.show_result(self._result)
        super().changeEvent(event)

    def _summary_line(self, result: QuizResult) -> str:
        if result.passed:
            line = self.tr("Well done! You got %1 out of %2.")
        elif result.can_retry:
            line = self.tr("You got %1 out of %2. Read the notes and try again.")
        else:
            line = self.tr("You got %1 out of %2. An officer can help you with this.")
        return line.replace("%1", str(result.score)).replace("%2", str(result.total))

    def _retranslate(self) -> None:
        self._counter.setText(
            self.tr("Question %1 of %2")
            .replace("%1", str(self._index + 1))
            .replace("%2", str(len(self._content.questions)))
        )
        self._summary.setText(self._summary_line(self._result) if self._result else "")
        self._previous.setText(self.tr("← Previous question"))
        self._previous.setAccessibleName(self.tr("previous question"))
        self._following.setText(self.tr("Next question →"))
        self._following.setAccessibleName(self.tr("next question"))
        self._check.setText(self.tr("Check my answers"))
        self._check.setAccessibleName(self.tr("check my answers"))
        self._retry.setText(self.tr("Try again"))
        self._retry.setAccessibleName(self.tr("try again"))
        name_scroll_bars(self._scroll, self.tr("scroll the questions"))
