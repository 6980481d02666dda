"""The step player on screen: the right view per step, Back / Next by the core's rules."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

from content_packs.pack import Pack
from kiosk_app.core.player import ProgrammePlayer
from kiosk_app.ui.presenters.step_views import StepBinding, StepViewFactory
from kiosk_app.ui.speech import Speaker
from kiosk_app.ui.steps.frame import StepFrame

log = logging.getLogger(__name__)

# How often Next is re-checked while a step is on screen: a reading's dwell completes by
# itself, without any input, and Next must light up when it does.
STEP_TICK_MS = 500


class PlayerPresenter(QObject):
    """Drives the step frame for one open `ProgrammePlayer`.

    `finished` fires when the participant presses Next on the last step of a completed
    programme; `break_requested` when they press "Take a break".
    """

    finished = Signal()
    break_requested = Signal()
    step_shown = Signal(str)  # the step type, e.g. "reading" (never any content)
    # Someone watching a video or listening to read-aloud touches nothing, yet is there.
    attention = Signal()

    def __init__(
        self,
        *,
        frame: StepFrame,
        speaker: Speaker | None = None,
        tick_ms: int = STEP_TICK_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._frame = frame
        self._speaker = speaker
        self._player: ProgrammePlayer | None = None
        self._pack: Pack | None = None
        self._binding: StepBinding | None = None
        self._next_allowed = False
        self._read_aloud = False
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self.refresh)
        frame.next_requested.connect(self.go_next)
        frame.back_requested.connect(self.go_back)
        frame.break_requested.connect(self.break_requested)
        frame.read_aloud_requested.connect(self.read_aloud)
        frame.set_read_aloud_available(False)
        # Keyboard users (and physical keyboards on kiosks) move like a browser: Alt+arrows.
        for keys, slot in (("Alt+Right", self.go_next), ("Alt+Left", self.go_back)):
            shortcut = QShortcut(QKeySequence(keys), frame)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    # -- public API ---------------------------------------------------------------------------

    @property
    def player(self) -> ProgrammePlayer | None:
        return self._player

    def open(self, player: ProgrammePlayer, pack: Pack) -> None:
        """Show the player's current step (exactly where the participant stopped)."""
        self.close()
        self._player = player
        self._pack = pack
        if self._speaker is not None:  # the version they read: in their language if there is one
            self._speaker.set_language(player.programme.language)
        player.view_started()
        self._show_current()
        self._timer.start()

    def close(self) -> None:
        """Stop media and speech, save the draft, and leave nothing of the step on screen."""
        self._timer.stop()
        self._release()
        if self._speaker is not None:
            self._speaker.set_narration(None)
        self._player = None
        self._pack = None
        self._next_allowed = False
        self._frame.set_view(QWidget())
        self._frame.set_title("")
        self._frame.set_position(1, 1)
        self._frame.set_next_enabled(False)
        self._frame.set_back_enabled(False)

    def set_read_aloud(self, on: bool) -> None:
        self._read_aloud = on
        self._frame.set_read_aloud_available(on)
        if not on and self._speaker is not None:
            self._speaker.stop()

    def view(self) -> QWidget | None:
        """The step view now shown (None when no step is open)."""
        return self._frame.view() if self._player is not None else None

    def next_allowed(self) -> bool:
        return self._next_allowed

    def refresh(self) -> None:
        """Follow the core: Next when the rules unlock the next step (or the end is reached)."""
        player = self._player
        if player is None:
            return
        self._next_allowed = player.can_go_next() or self._finished_here()
        self._frame.set_next_enabled(self._next_allowed)
        self._frame.set_back_enabled(player.can_go_back())
        speaking = self._speaker is not None and self._speaker.is_speaking()
        if speaking or (self._binding is not None and self._binding.busy()):
            self.attention.emit()

    def go_next(self) -> None:
        player = self._player
        if player is None or not self._next_allowed:
            return  # Alt+Right arrives even while the Next button is disabled
        if player.can_go_next():
            self._release()
            player.next()
            self._show_current()
        elif self._finished_here():
            self._release()
            player.view_ended()
            self._timer.stop()
            self.finished.emit()

    def go_back(self) -> None:
        player = self._player
        if player is None or not player.can_go_back():
            return
        self._release()
        player.back()
        self._show_current()

    def read_aloud(self) -> None:
        if self._speaker is None or self._binding is None or not self._read_aloud:
            return
        self._speaker.say(self._binding.plain_text())

    # -- internals ----------------------------------------------------------------------------

    def _finished_here(self) -> bool:
        player = self._player
        if player is None:
            return False
        last = player.position[0] == player.position[1]
        return last and player.completion() is not None

    def _release(self) -> None:
        binding, self._binding = self._binding, None
        if self._speaker is not None:
            self._speaker.stop()
        if binding is not None:
            binding.release()
            # The frame deletes it later; until then it must not show through.
            binding.view.hide()

    def _show_current(self) -> None:
        player, pack = self._player, self._pack
        assert player is not None
        assert pack is not None
        step = player.current_step
        binding = StepViewFactory(
            player=player, pack=pack, changed=self.refresh, parent=self._frame
        ).build()
        self._binding = binding
        self._frame.set_view(binding.view)
        self._frame.set_title(player.programme.module_of(step.id).title)
        self._frame.set_position(*player.position)
        if self._speaker is not None:
            device, hint = binding.narration or (None, "")
            self._speaker.set_narration(device, hint)
        self.refresh()
        if self._frame.isVisible():
            self._frame.setFocus(Qt.FocusReason.OtherFocusReason)
        # Announced once the event loop has shown it (the screenshot test waits for the line).
        view, position = binding.view, player.position
        QTimer.singleShot(0, self, lambda: self._announce(view, step.type, position))

    def _announce(self, view: QWidget, step_type: str, position: tuple[int, int]) -> None:
        if self._binding is not None and self._binding.view is view:
            log.info("step shown: %s (%d of %d)", step_type, *position)
            self.step_shown.emit(step_type)
