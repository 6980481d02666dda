"""One view per step type, filled from the programme model and wired to the player."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QIODevice
from PySide6.QtWidgets import QWidget

from content_packs import model
from content_packs.pack import Pack
from content_packs.progress import StepStatus
from kiosk_app.core.player import PlayerError, ProgrammePlayer
from kiosk_app.ui.presenters import messages
from kiosk_app.ui.presenters.autosave import Autosave
from kiosk_app.ui.steps.checkpoint import CheckpointContent, CheckpointView
from kiosk_app.ui.steps.pledge import PledgeContent, PledgeView
from kiosk_app.ui.steps.quiz import QuestionContent, QuizContent, QuizResult, QuizView
from kiosk_app.ui.steps.reading import ReadingContent, ReadingView
from kiosk_app.ui.steps.text_entry import TextEntryContent, TextEntryView

# QtMultimedia loads with the first audio, video or narrated step, not with the presenter.
if TYPE_CHECKING:
    from kiosk_app.ui.steps.playback import ReaderDevice

log = logging.getLogger(__name__)


@dataclass(slots=True)
class StepBinding:
    """A step's view and what the frame needs from it: its text, and how to let go."""

    view: QWidget
    plain_text: Callable[[], str]
    narration: tuple[QIODevice, str] | None = None
    # True while the step holds the participant's attention without any input (media playing).
    busy: Callable[[], bool] = lambda: False
    # Called before the view goes (next step, break, logout): stop media, save the draft.
    releases: list[Callable[[], None]] = field(default_factory=list)

    def release(self) -> None:
        for release in self.releases:
            release()
        self.releases.clear()


def _member_device(pack: Pack, name: str) -> ReaderDevice:
    """A QIODevice over a pack member: decrypted block by block on demand, never to disk."""
    from kiosk_app.ui.steps.playback import ReaderDevice

    device = ReaderDevice(pack.open_member(name))
    if not device.open_for_reading():
        raise OSError(f"cannot open pack member {name} for playing")
    return device


def _pack_loader(pack: Pack) -> Callable[[str], bytes | None]:
    names = set(pack.names())

    def load(name: str) -> bytes | None:
        return pack.read_member(name) if name in names else None

    return load


class StepViewFactory:
    """Builds the view for the player's current step; `changed` runs after every action.

    Each view is made a child of `parent` (the step frame that will show it) from its first
    line: a finished tree of widgets given a parent later has its stylesheet style, fonts and
    palette worked out again, level by level, and a quiz took about a third longer to show.
    """

    def __init__(
        self,
        *,
        player: ProgrammePlayer,
        pack: Pack,
        changed: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        self._parent = parent
        self._player = player
        self._pack = pack
        self._changed = changed

    def build(self) -> StepBinding:
        step = self._player.current_step
        builders: dict[type[Any], Callable[[Any], StepBinding]] = {
            model.ReadingStep: self._reading,
            model.AudioStep: self._media,
            model.VideoStep: self._media,
            model.QuizStep: self._quiz,
            model.ReflectionStep: self._text,
            model.LetterStep: self._text,
            model.PledgeStep: self._pledge,
            model.CheckpointStep: self._checkpoint,
        }
        return builders[type(step)](step)

    # -- per type -----------------------------------------------------------------------------

    def _reading(self, step: model.ReadingStep) -> StepBinding:
        view = ReadingView(_pack_loader(self._pack), self._parent)
        # The body usually opens with its own heading; do not say the title twice.
        title = "" if step.body.lstrip().startswith("#") else step.title
        view.set_content(ReadingContent(title=title, markdown=step.body))
        narration = None
        if step.narration:
            narration = (_member_device(self._pack, step.narration), step.narration)
        binding = StepBinding(view, view.plain_text, narration)
        if narration is not None:
            binding.releases.append(narration[0].close)
        return binding

    def _media(self, step: model.AudioStep | model.VideoStep) -> StepBinding:
        from PySide6.QtMultimedia import QMediaPlayer

        from kiosk_app.ui.steps.media import MediaContent, MediaView

        view = MediaView(self._parent)
        view.set_content(
            MediaContent(
                title=step.title,
                video=isinstance(step, model.VideoStep),
                transcript_markdown=step.body,
            )
        )
        binding = StepBinding(
            view,
            lambda: "\n".join([step.title, step.body]),
            busy=lambda: view.player.playbackState() is QMediaPlayer.PlaybackState.PlayingState,
        )
        view.played.connect(self._on_played)
        device = _member_device(self._pack, step.source)
        view.set_source(device, step.source)

        def release() -> None:
            view.release()  # stopping reports the share played so far, which is recorded
            view.played.disconnect(self._on_played)
            device.close()

        binding.releases.append(release)
        return binding

    def _on_played(self, fraction: float) -> None:
        self._player.media_played(fraction=min(1.0, max(0.0, fraction)))
        self._changed()

    def _quiz(self, step: model.QuizStep) -> StepBinding:
        view = QuizView(self._parent)
        view.set_content(
            QuizContent(
                title=step.title,
                questions=tuple(
                    QuestionContent(q.id, q.prompt, tuple(o.text for o in q.options))
                    for q in step.questions
                ),
            )
        )

        # Every choice is saved as it is made: logged out mid-quiz (idle, a break, a crash),
        # the participant comes back to the choices made so far.
        draft = self._player.draft() or {}
        saved = draft.get("answers")
        if isinstance(saved, dict):
            view.set_answers(
                {
                    str(question): index
                    for question, index in saved.items()
                    if isinstance(index, int) and not isinstance(index, bool)
                }
            )
        view.answers_changed.connect(lambda chosen: self._player.save_draft({"answers": chosen}))

        def submitted(answers: dict[str, int]) -> None:
            try:
                feedback = self._player.answer_quiz(dict(answers))
            except PlayerError:
                log.info("quiz %s: attempt refused by the rules", step.id)
                return
            view.show_result(QuizResult.from_feedback(feedback))
            self._changed()

        view.answers_submitted.connect(submitted)
        return StepBinding(view, lambda: _quiz_text(step))

    def _text(self, step: model.ReflectionStep | model.LetterStep) -> StepBinding:
        view = TextEntryView(self._parent)
        letter = isinstance(step, model.LetterStep)
        view.set_content(
            TextEntryContent(
                title=step.title, prompt=step.prompt, min_words=step.min_words, letter=letter
            )
        )
        draft = self._player.draft() or {}
        if isinstance(draft.get("text"), str):
            view.set_text(draft["text"])
        autosave = Autosave(self._player.save_draft, parent=view)
        view.text_changed.connect(lambda text: autosave.changed({"text": text}))

        def submitted(text: str) -> None:
            autosave.flush()
            result = self._player.submit_text(text)
            view.set_message(messages.text_result(result))
            self._changed()

        view.submitted.connect(submitted)
        binding = StepBinding(view, view.plain_text)
        binding.releases.append(autosave.flush)
        return binding

    def _pledge(self, step: model.PledgeStep) -> StepBinding:
        view = PledgeView(self._parent)
        view.set_content(
            PledgeContent(title=step.title, items=step.items, min_items=step.min_items)
        )
        draft = self._player.draft() or {}
        items = draft.get("items")
        if isinstance(items, list):
            view.set_items([str(i) for i in items])
        autosave = Autosave(self._player.save_draft, parent=view)
        view.changed.connect(lambda chosen: autosave.changed({"items": list(chosen)}))

        def submitted(chosen: list[str]) -> None:
            autosave.flush()
            result = self._player.save_pledge(chosen)
            view.set_message(messages.pledge_result(result))
            self._changed()

        view.submitted.connect(submitted)
        text = "\n".join([step.title, *step.items])
        binding = StepBinding(view, lambda: text)
        binding.releases.append(autosave.flush)
        return binding

    def _checkpoint(self, step: model.CheckpointStep) -> StepBinding:
        view = CheckpointView(self._parent)
        view.set_content(CheckpointContent(title=step.title, summary_markdown=step.summary))
        view.set_confirmed(self._player.step_state(step.id) is StepStatus.COMPLETE)

        def confirmed() -> None:
            self._player.confirm_checkpoint()
            self._changed()

        view.confirmed.connect(confirmed)
        return StepBinding(view, view.plain_text)


def _quiz_text(step: model.QuizStep) -> str:
    lines = [step.title]
    for question in step.questions:
        lines.append(question.prompt)
        lines.extend(option.text for option in question.options)
    return "\n".join(lines)
