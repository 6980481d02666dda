"""Read-aloud: Qt's text-to-speech (its "mock" engine here), or the step's narration audio."""

from __future__ import annotations

import io
import math
import struct
import wave
from collections.abc import Iterator

import pytest
import shiboken6
from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtTextToSpeech import QTextToSpeech
from pytestqt.qtbot import QtBot

from kiosk_app.ui.speech import Speaker
from kiosk_app.ui.steps.playback import ReaderDevice

LOAD_MS = 10_000


def tone(seconds: float, rate: int = 8000) -> bytes:
    """A WAV tone made in memory: narration is only ever read from a reader, never a file."""
    frames = b"".join(
        struct.pack("<h", int(6000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(seconds * rate))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return out.getvalue()


@pytest.fixture
def speaker(qtbot: QtBot) -> Iterator[Speaker]:
    speaking = Speaker(engine="mock")
    yield speaking
    narrator = speaking.narration_player()
    if narrator is not None and shiboken6.isValid(narrator):
        with qtbot.waitSignal(narrator.destroyed, timeout=LOAD_MS):
            speaking.shutdown()
    else:
        speaking.shutdown()
    speaking.deleteLater()


def test_the_mock_engine_ships_with_pyside() -> None:
    assert "mock" in QTextToSpeech.availableEngines()


def test_read_aloud_speaks_with_the_tts_engine_and_stops(qtbot: QtBot, speaker: Speaker) -> None:
    with qtbot.waitSignal(speaker.speaking_changed, check_params_cb=lambda on: on):
        speaker.say("Hello. This is step one.")
    assert speaker.engine().engine() == "mock"
    assert speaker.is_speaking()
    with qtbot.waitSignal(speaker.speaking_changed, check_params_cb=lambda on: not on):
        speaker.stop()
    assert speaker.engine().state() is QTextToSpeech.State.Ready


def test_speech_ends_by_itself_at_the_end_of_the_text(qtbot: QtBot, speaker: Speaker) -> None:
    with qtbot.waitSignal(speaker.speaking_changed, check_params_cb=lambda on: on):
        speaker.say("Short.")
    qtbot.waitUntil(lambda: not speaker.is_speaking(), timeout=LOAD_MS)


@pytest.mark.parametrize(
    ("language", "voice"),
    [("fi", "fi_FI"), ("nb-NO", "nb_NO"), ("en-US", "en_US"), ("en", "en_US"), ("pl", "en_GB")],
)
def test_text_is_spoken_in_the_programmes_language_when_there_is_a_voice_for_it(
    speaker: Speaker, language: str, voice: str
) -> None:
    # The mock engine speaks en_GB (its default), en_US, nb_NO, nn_NO and fi_FI.
    assert speaker.engine().locale().name() == "en_GB"
    speaker.set_language(language)
    assert speaker.engine().locale().name() == voice


def test_the_language_set_before_the_engine_starts_is_used_when_it_does(qtbot: QtBot) -> None:
    speaking = Speaker(engine="mock")
    try:
        speaking.set_language("fi")
        assert speaking.engine().locale().name() == "fi_FI"
    finally:
        speaking.shutdown()
        speaking.deleteLater()


def test_nothing_to_say_says_nothing(qtbot: QtBot, speaker: Speaker) -> None:
    with qtbot.assertNotEmitted(speaker.speaking_changed):
        speaker.say("   ")


def test_the_steps_narration_plays_instead_of_the_voice(qtbot: QtBot, speaker: Speaker) -> None:
    states: list[QTextToSpeech.State] = []
    speaker.engine().stateChanged.connect(states.append)
    speaker.set_narration(io.BytesIO(tone(0.8)), "narration/step.wav")
    assert speaker.has_narration()
    with qtbot.waitSignal(speaker.speaking_changed, timeout=LOAD_MS) as started:
        speaker.say("This text is not spoken: the recording is played.")
    assert started.args == [True]
    narrator = speaker.narration_player()
    assert narrator is not None
    qtbot.waitUntil(lambda: narrator.position() > 300, timeout=LOAD_MS)
    qtbot.waitUntil(lambda: not speaker.is_speaking(), timeout=LOAD_MS)  # the recording ended
    assert narrator.mediaStatus() is QMediaPlayer.MediaStatus.EndOfMedia
    assert states == []  # the voice never spoke


def test_narration_plays_again_from_the_start(qtbot: QtBot, speaker: Speaker) -> None:
    speaker.set_narration(io.BytesIO(tone(2.0)), "narration/step.wav")
    speaker.say("")
    narrator = speaker.narration_player()
    assert narrator is not None
    qtbot.waitUntil(lambda: narrator.position() > 600, timeout=LOAD_MS)
    speaker.say("")
    qtbot.waitUntil(lambda: 0 < narrator.position() < 500, timeout=LOAD_MS)
    with qtbot.waitSignal(speaker.speaking_changed, check_params_cb=lambda on: not on):
        speaker.stop()


def test_a_new_step_drops_the_old_narration(qtbot: QtBot, speaker: Speaker) -> None:
    device = ReaderDevice(io.BytesIO(tone(2.0)))
    assert device.open_for_reading()
    speaker.set_narration(device, "narration/one.wav")
    speaker.say("")
    narrator = speaker.narration_player()
    assert narrator is not None
    qtbot.waitUntil(speaker.is_speaking, timeout=LOAD_MS)
    with qtbot.waitSignal(narrator.destroyed, timeout=LOAD_MS):
        speaker.set_narration(None)
        device.close()  # what the presenter does with a step's device: harmless
    assert not speaker.is_speaking()
    assert speaker.narration_player() is None
    with qtbot.waitSignal(speaker.speaking_changed, check_params_cb=lambda on: on):
        speaker.say("Now the voice reads the text.")
