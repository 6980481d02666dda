"""Audio and video steps played from the pack's decrypting reader; nothing touches the disk."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QIODevice, Qt, Signal
from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from kiosk_app.ui.steps.common import (
    PackTextBrowser,
    button,
    label,
    message_label,
    name_scroll_bars,
    show_message,
)
from kiosk_app.ui.steps.playback import PackPlayer, Reader, ReaderDevice
from kiosk_app.ui.theme import MIN_TOUCH_TARGET_PX

__all__ = ["Coverage", "MediaContent", "MediaView", "ReaderDevice"]

log = logging.getLogger(__name__)

# A position update counts as continuous play when the medium moved forward by no more than
# the wall-clock time since the last update (times the playback rate) plus this slack.
# Position updates are ~50 ms apart, but a busy machine may deliver them late; measuring
# against the clock means a late update is still listening, while a jump is a seek.
_CONTINUOUS_MS = 1500
# While playing, the share played is reported each time it grows by this much, so Next can
# light up as soon as enough has been played, without waiting for a pause or the end.
REPORT_STEP = 0.1
_SEEK_STEP_MS = 5000
_READY = {
    QMediaPlayer.MediaStatus.LoadedMedia,
    QMediaPlayer.MediaStatus.BufferingMedia,
    QMediaPlayer.MediaStatus.BufferedMedia,
    QMediaPlayer.MediaStatus.EndOfMedia,
}


class Coverage:
    """The distinct share of a medium that playback has covered, from position updates."""

    def __init__(self) -> None:
        self._spans: list[tuple[int, int]] = []
        self._last: tuple[int, float] | None = None

    def reset_position(self) -> None:
        """Playback jumped (seek, stop): the next position starts a new span."""
        self._last = None

    def position(self, ms: int, *, at: float, rate: float = 1.0) -> None:
        """The medium is at `ms` at monotonic time `at` (seconds), playing at `rate`."""
        last, self._last = self._last, (ms, at)
        if last is None:
            return
        last_ms, last_at = last
        allowed = _CONTINUOUS_MS + max(0.0, at - last_at) * 1000 * max(rate, 1.0)
        if 0 < ms - last_ms <= allowed:
            self._spans.append((last_ms, ms))

    def fraction(self, duration_ms: int) -> float:
        if duration_ms <= 0:
            return 0.0
        covered, end = 0, -1
        for start, stop in sorted(self._spans):
            start = max(start, end)
            if stop > start:
                covered += stop - start
                end = stop
        return min(1.0, covered / duration_ms)


@dataclass(frozen=True, slots=True)
class MediaContent:
    """What a media step shows: its title, whether it is a video, and the step's text."""

    title: str
    video: bool
    transcript_markdown: str = ""


def _clock(ms: int) -> str:
    seconds = max(0, ms) // 1000
    return f"{seconds // 60}:{seconds % 60:02d}"


class MediaView(QWidget):
    """Plays one audio or video member; emits `played(fraction)` whenever the share grows.

    The share is reported on pause, stop, at the end, on `release()`, and every
    `REPORT_STEP` while playing; the presenter hands it to `ProgrammePlayer.media_played`.
    One view plays one medium: `set_source` once, `release()` when the step goes.
    """

    played = Signal(float)
    playing_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._coverage = Coverage()
        self._reported = 0.0
        self._released = False
        self._playing = False
        self._duration = 0
        self._content = MediaContent(title="", video=False)
        # Made before the video widget, so that Qt destroys the player first.
        self._playback: PackPlayer | None = PackPlayer(parent=self)
        self._player = self._playback.media
        self._video = QVideoWidget(self)
        self._video.setMinimumHeight(240)
        self._video.hide()
        self._player.setVideoOutput(self._video)

        self._title = label("title")
        self._play = button("primary")
        self._play.setEnabled(False)
        self._play.clicked.connect(self.toggle)
        self._restart = button()
        self._restart.setEnabled(False)
        self._restart.clicked.connect(self._start_again)
        self._bar = QSlider(Qt.Orientation.Horizontal)
        self._bar.setMinimumHeight(MIN_TOUCH_TARGET_PX)
        self._bar.setEnabled(False)
        self._bar.setSingleStep(_SEEK_STEP_MS)
        self._bar.valueChanged.connect(self._on_bar_value)
        self._bar.sliderReleased.connect(lambda: self._seek(self._bar.value()))
        self._time = QLabel(f"{_clock(0)} / {_clock(0)}")
        self._message = message_label()
        self._text = PackTextBrowser(parent=self)
        self._text.hide()

        controls = QHBoxLayout()
        controls.setSpacing(16)
        controls.addWidget(self._play)
        controls.addWidget(self._restart)
        controls.addWidget(self._bar, 1)
        controls.addWidget(self._time)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._title)
        layout.addWidget(self._video, 3)
        layout.addLayout(controls)
        layout.addWidget(self._message)
        layout.addWidget(self._text, 1)

        self._player.positionChanged.connect(self._on_position)
        self._player.durationChanged.connect(self._on_duration)
        self._player.mediaStatusChanged.connect(self._on_status)
        self._player.playbackStateChanged.connect(self._on_state)
        self._player.errorOccurred.connect(self._on_error)
        self.setFocusProxy(self._play)
        self._retranslate()

    # -- public API ---------------------------------------------------------------------------

    @property
    def player(self) -> QMediaPlayer:
        """The QMediaPlayer, to watch its status (drive it through this view, not directly)."""
        return self._player

    def set_content(self, content: MediaContent) -> None:
        """Title, audio or video, and the step's text shown below the controls."""
        self._content = content
        self._title.setText(content.title)
        self._title.setVisible(bool(content.title))
        self._video.setVisible(content.video)
        self._text.setMarkdown(content.transcript_markdown)
        self._text.setVisible(bool(content.transcript_markdown.strip()))
        self._retranslate()

    def set_source(self, source: QIODevice | Reader, url_hint: str) -> None:
        """Play `source`: a pack member's reader, or a device over one; the view owns it now.

        `url_hint` is the member's name; its extension tells the player the format. Do not
        close the device yourself: `release()` lets go of it once the player has.
        """
        if self._playback is None:
            raise RuntimeError("this media view was released")
        device = self._playback.load(source, url_hint)
        if isinstance(device, ReaderDevice):
            device.failed.connect(self._on_read_failed)

    def set_playback_rate(self, rate: float) -> None:
        """Play faster or slower (1.0 is normal speed)."""
        if self._playback is not None:
            self._playback.set_rate(rate)

    def covered_fraction(self) -> float:
        """The distinct share of the medium played so far (0..1)."""
        return self._coverage.fraction(self._duration)

    def is_playing(self) -> bool:
        return self._playing

    def toggle(self) -> None:
        """Play if paused, pause if playing."""
        if self._playback is None:
            return
        if self.is_playing():
            self._playback.pause()
        else:
            self._playback.play()

    def stop(self) -> None:
        """Stop playback (a break, logout); reports the share played so far at once."""
        self._report()
        if self._playback is not None:
            self._playback.stop()

    def release(self) -> None:
        """Report the share played, stop, and let go of the player and its device."""
        if self._released:
            return
        self._released = True
        self._report()
        playback, self._playback = self._playback, None
        for widget in (self._play, self._restart, self._bar):
            widget.setEnabled(False)
        if playback is not None:
            playback.dispose()  # what it still signals on the way out is ignored
        if self._playing:
            self._playing = False
            self._retranslate()
            self.playing_changed.emit(False)

    def plain_text(self) -> str:
        """The title and the step's text, for read-aloud."""
        return "\n".join(filter(None, [self._title.text(), self._text.plain_text()]))

    def message(self) -> str:
        """The problem shown, if playing failed (empty otherwise)."""
        return self._message.text() if not self._message.isHidden() else ""

    # -- internals ----------------------------------------------------------------------------

    def _report(self) -> None:
        share = round(self.covered_fraction(), 4)
        if share > self._reported:
            self._reported = share
            self.played.emit(share)

    def _seek(self, ms: int) -> None:
        if self._playback is None:
            return
        self._coverage.reset_position()
        self._playback.seek(ms)

    def _start_again(self) -> None:
        self._seek(0)
        if self._playback is not None and not self.is_playing():
            self._playback.play()

    def _on_bar_value(self, ms: int) -> None:
        # Our own position updates move the bar with its signals blocked, so a change here
        # is the participant's: keys, a tap on the groove, or the end of a drag.
        if not self._bar.isSliderDown():
            self._seek(ms)
        self._show_time(ms)

    def _on_position(self, ms: int) -> None:
        if self._released:
            return
        self._coverage.position(ms, at=time.monotonic(), rate=self._player.playbackRate())
        if not self._bar.isSliderDown():
            self._bar.blockSignals(True)
            self._bar.setValue(ms)
            self._bar.blockSignals(False)
            self._show_time(ms)
        if self.covered_fraction() >= self._reported + REPORT_STEP:
            self._report()

    def _on_duration(self, ms: int) -> None:
        if self._released:
            return
        self._duration = max(0, ms)
        self._bar.blockSignals(True)
        self._bar.setRange(0, max(0, ms))
        self._bar.setPageStep(max(_SEEK_STEP_MS, ms // 10))
        self._bar.blockSignals(False)
        self._show_time(self._bar.value())

    def _show_time(self, ms: int) -> None:
        self._time.setText(f"{_clock(ms)} / {_clock(self._duration)}")

    def _on_status(self, status: QMediaPlayer.MediaStatus) -> None:
        if self._released:
            return
        ready = status in _READY
        for widget in (self._play, self._restart, self._bar):
            widget.setEnabled(ready)
        if status is QMediaPlayer.MediaStatus.EndOfMedia:
            self._coverage.position(
                self._duration, at=time.monotonic(), rate=self._player.playbackRate()
            )
            self._report()
            self._coverage.reset_position()

    def _on_state(self, state: QMediaPlayer.PlaybackState) -> None:
        if self._released:
            return
        playing = state is QMediaPlayer.PlaybackState.PlayingState
        self._playing = playing
        if not playing:
            self._report()
            self._coverage.reset_position()
        self._retranslate()
        self.playing_changed.emit(playing)

    def _on_error(self, error: QMediaPlayer.Error, _detail: str) -> None:
        if not self._released and error is not QMediaPlayer.Error.NoError:
            self._show_problem()

    def _on_read_failed(self, reason: str) -> None:
        if not self._released and not self.message():
            log.warning("media read failed: %s", reason)
            self._show_problem()

    def _show_problem(self) -> None:
        show_message(
            self._message,
            self.tr("This cannot be played on this kiosk. Please tell an officer."),
        )

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
            if self.message():
                self._show_problem()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        playing = self.is_playing()
        self._play.setText(self.tr("❚❚ Pause") if playing else self.tr("▶ Play"))
        self._play.setAccessibleName(self.tr("pause") if playing else self.tr("play"))
        self._restart.setText(self.tr("⟲ Start again"))
        self._restart.setAccessibleName(self.tr("start again"))
        self._bar.setAccessibleName(self.tr("position"))
        self._time.setAccessibleName(self.tr("time played"))
        self._video.setAccessibleName(self.tr("video"))
        self._text.setAccessibleName(self.tr("about this step"))
        name_scroll_bars(self._text, self.tr("scroll the text"))
