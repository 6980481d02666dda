"""Reflection and letter steps: a prompt, a large text box and a live word counter."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget

from content_packs.progress import count_words
from kiosk_app.ui.steps.common import (
    button,
    label,
    message_label,
    name_scroll_bars,
    show_message,
)


@dataclass(frozen=True, slots=True)
class TextEntryContent:
    title: str
    prompt: str
    min_words: int
    letter: bool = False
    reviewed: bool = False  # an officer reads it (always true of a letter)


class _Editor(QPlainTextEdit):
    """Tab leaves the box: keyboard users must be able to reach the buttons."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setMinimumHeight(240)
        # Styled by the app stylesheet's rule for this role (kiosk_app.ui.theme): a sheet of
        # its own made Qt style the box and its scroll bars apart at every reflection step.
        self.setProperty("role", "writing")


class TextEntryView(QWidget):
    """Emits `text_changed(text)` on every change (the autosave hook) and `submitted(text)`.

    The counter counts words the way the core does (`content_packs.progress.count_words`),
    so "40 of 40 words" here is enough there too.
    """

    text_changed = Signal(str)
    submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._content = TextEntryContent(title="", prompt="", min_words=0)
        self._title = label("title")
        self._prompt = label()
        self._review = label("hint")
        self._review.hide()
        self._editor = _Editor(self)
        self._editor.textChanged.connect(self._on_text_changed)
        self._counter = label("hint")
        self._message = message_label()
        self._submit = button("primary")
        self._submit.clicked.connect(lambda: self.submitted.emit(self.text()))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._title)
        layout.addWidget(self._prompt)
        layout.addWidget(self._review)
        layout.addWidget(self._editor, 1)
        layout.addWidget(self._counter)
        layout.addWidget(self._message)
        layout.addWidget(self._submit, 0, Qt.AlignmentFlag.AlignRight)
        self.setFocusProxy(self._editor)
        self._retranslate()

    # -- public API ---------------------------------------------------------------------------

    def set_content(self, content: TextEntryContent) -> None:
        """Show the prompt and the minimum; empties the box."""
        self._content = content
        self._title.setText(content.title)
        self._title.setVisible(bool(content.title))
        self._prompt.setText(content.prompt)
        self._review.setVisible(content.letter or content.reviewed)
        self.set_text("")

    def set_text(self, text: str) -> None:
        """Put a draft back in the box, cursor at its end, without emitting `text_changed`."""
        self._editor.blockSignals(True)
        self._editor.setPlainText(text)
        self._editor.blockSignals(False)
        self._editor.moveCursor(self._editor.textCursor().MoveOperation.End)
        self.set_message("")
        self._retranslate()

    def text(self) -> str:
        return self._editor.toPlainText()

    def words(self) -> int:
        """How many words the box holds, counted as the core counts them."""
        return count_words(self.text())

    def set_message(self, text: str) -> None:
        """A message already translated (empty hides it)."""
        show_message(self._message, text)

    def show_result(self, *, accepted: bool, words_needed: int) -> None:
        """The core's answer to a submit: "Saved." or how many more words it needs."""
        if accepted:
            self.set_message(self.tr("Saved."))
        else:
            self.set_message(self.tr("Please write %n more words.", "", words_needed))

    def counter_text(self) -> str:
        """The live word count, e.g. "32 of 40 words"."""
        return self._counter.text()

    def plain_text(self) -> str:
        """The prompt, for read-aloud (never what the participant wrote)."""
        return "\n".join(filter(None, [self._title.text(), self._prompt.text()]))

    # -- internals ----------------------------------------------------------------------------

    def _on_text_changed(self) -> None:
        self._retranslate()
        self.set_message("")
        self.text_changed.emit(self.text())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        words = self.words()
        needed = self._content.min_words
        if needed:
            counter = self.tr("%1 of %n words", "", needed).replace("%1", str(words))
            if words >= needed:
                counter = self.tr("%1 ✓ That is enough.").replace("%1", counter)
        else:
            counter = self.tr("%n words", "", words)
        self._counter.setText(counter)
        letter = self._content.letter
        self._review.setText(
            self.tr("An officer will read your letter before anyone else sees it.")
            if letter
            else self.tr("An officer will read what you write here.")
        )
        self._editor.setAccessibleName(self.tr("your letter") if letter else self.tr("your answer"))
        self._editor.setAccessibleDescription(self._prompt.text())
        self._editor.setPlaceholderText(self.tr("Type here…"))
        name_scroll_bars(self._editor, self.tr("scroll what you wrote"))
        self._submit.setText(self.tr("Save my letter") if letter else self.tr("Save my answer"))
        self._submit.setAccessibleName(self.tr("submit"))
