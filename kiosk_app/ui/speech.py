"""Read-aloud: the pack's narration audio for the step when it has one, else text-to-speech."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QIODevice, QObject, Signal

# QtMultimedia and QtTextToSpeech load only when something is read aloud: a kiosk that
# never does keeps them (and their plugins) out of its start-up time and memory.
if TYPE_CHECKING:
    from PySide6.QtMultimedia import QMediaPlayer
    from PySide6.QtTextToSpeech import QTextToSpeech

    from kiosk_app.ui.steps.playback import PackPlayer, Reader

log = logging.getLogger(__name__)


def _tts_busy(state: QTextToSpeech.State) -> bool:
    from PySide6.QtTextToSpeech import QTextToSpeech

    busy = (
        QTextToSpeech.State.Speaking,
        QTextToSpeech.State.Synthesizing,
        QTextToSpeech.State.Paused,
    )
    return state in busy


class Speaker(QObject):
    """`say(text)` speaks (or plays the narration set for the step); `stop()` is silence.

    `engine` names a QtTextToSpeech engine ("mock" in tests); None takes the platform's
    default. The engine and the narration player start on first use, so a kiosk that
    never reads aloud pays nothing. Call `shutdown()` before letting go of the speaker.
    """

    speaking_changed = Signal(bool)

    def __init__(self, *, engine: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine_name = engine
        self._tts: QTextToSpeech | None = None
        self._narration: tuple[QIODevice | Reader, str] | None = None
        self._narrator: PackPlayer | None = None
        self._speaking = False
        self._language: str | None = None

    # -- public API ---------------------------------------------------------------------------

    def set_narration(self, source: QIODevice | Reader | None, url_hint: str = "") -> None:
        """The step's narration (a pack member's reader or a device over it), or None.

        Once played, the source belongs to the speaker, which closes it when the next
        narration is set; one never played stays the caller's.
        """
        self.stop()
        self._drop_narrator()
        self._narration = (source, url_hint) if source is not None else None

    def has_narration(self) -> bool:
        return self._narration is not None

    def set_language(self, code: str) -> None:
        """Speak text in `code` ("pl", "en-GB": the programme's language) from now on.

        The engine's voice for that locale, else one for the same language; with neither,
        the engine's default (the step's narration, made in the pack's language, still
        plays). Applied when the engine starts, so setting it starts nothing.
        """
        self._language = code
        if self._tts is not None:
            self._apply_language(self._tts)

    def language(self) -> str | None:
        """The language text is to be spoken in (`set_language`), if one was set."""
        return self._language

    def say(self, text: str) -> None:
        """Read `text` aloud, or play the narration from the start if the step has one."""
        self.stop()
        if self._narration is not None:
            narrator = self._narrator or self._load_narration(*self._narration)
            narrator.seek(0)
            narrator.play()
        elif text.strip():
            self._engine().say(text)

    def stop(self) -> None:
        """Stop speaking at once (next step, a break, logout)."""
        if self._narrator is not None:
            self._narrator.stop()
        if self._tts is not None and _tts_busy(self._tts.state()):
            self._tts.stop()

    def is_speaking(self) -> bool:
        return self._speaking

    def engine(self) -> QTextToSpeech:
        """The text-to-speech engine (started on first use)."""
        return self._engine()

    def narration_player(self) -> QMediaPlayer | None:
        """The player of the narration, once `say` has started it (to watch its state)."""
        return self._narrator.media if self._narrator is not None else None

    def shutdown(self) -> None:
        """Silence, and let go of the narration player (the event loop destroys it)."""
        self.set_narration(None)
        self._set_speaking(False)

    # -- internals ----------------------------------------------------------------------------

    def _engine(self) -> QTextToSpeech:
        if self._tts is None:
            from PySide6.QtTextToSpeech import QTextToSpeech

            name = self._engine_name
            self._tts = QTextToSpeech(name, self) if name else QTextToSpeech(self)
            self._tts.stateChanged.connect(self._on_tts_state)
            self._tts.errorOccurred.connect(self._on_tts_error)
            if self._language is not None:
                self._apply_language(self._tts)
        return self._tts

    def _apply_language(self, tts: QTextToSpeech) -> None:
        from PySide6.QtCore import QLocale

        assert self._language is not None
        wanted = QLocale(self._language.replace("-", "_"))
        voices = tts.availableLocales()
        match = next((v for v in voices if v.name() == wanted.name()), None) or next(
            (v for v in voices if v.language() == wanted.language()), None
        )
        if match is None:
            log.info("no text-to-speech voice for %s; the engine's default speaks", wanted.name())
        elif match != tts.locale():
            tts.setLocale(match)

    def _load_narration(self, source: QIODevice | Reader, url_hint: str) -> PackPlayer:
        from kiosk_app.ui.steps.playback import PackPlayer

        narrator = PackPlayer(parent=self)
        narrator.media.playbackStateChanged.connect(self._on_narration_state)
        narrator.load(source, url_hint)
        self._narrator = narrator
        return narrator

    def _drop_narrator(self) -> None:
        narrator, self._narrator = self._narrator, None
        if narrator is not None:
            narrator.media.playbackStateChanged.disconnect(self._on_narration_state)
            narrator.dispose()
            self._set_speaking(False)

    def _on_tts_state(self, state: QTextToSpeech.State) -> None:
        from PySide6.QtTextToSpeech import QTextToSpeech

        self._set_speaking(
            state in (QTextToSpeech.State.Speaking, QTextToSpeech.State.Synthesizing)
        )

    def _on_tts_error(self, error: QTextToSpeech.ErrorReason, _detail: str) -> None:
        # The kiosk goes on without speech; the text is still on screen.
        log.warning("text-to-speech failed: %s", error.name)
        self._set_speaking(False)

    def _on_narration_state(self, state: QMediaPlayer.PlaybackState) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        self._set_speaking(state is QMediaPlayer.PlaybackState.PlayingState)

    def _set_speaking(self, speaking: bool) -> None:
        if speaking != self._speaking:
            self._speaking = speaking
            self.speaking_changed.emit(speaking)
