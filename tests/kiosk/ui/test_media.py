"""Media steps: a QIODevice over the pack's decrypting reader feeds QMediaPlayer; no clear file."""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtMultimedia import QMediaDevices, QMediaPlayer, QVideoFrame
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QSlider, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from content_packs import age, authoring, pack, signing
from kiosk_app.ui.steps.media import Coverage, MediaContent, MediaView, ReaderDevice
from kiosk_app.ui.steps.playback import Reader
from tests.kiosk.ui.conftest import button_named

SAMPLE = Path(__file__).resolve().parents[3] / "content_packs" / "library" / "alcohol-and-you"
TONE = "media/test/tone.ogg"  # 2 s of Opus, as narration and audio steps are
CLIP = "media/test/clip.webm"  # 2 s of VP8 video, 160 x 120, with an Opus track
LOAD_MS = 10_000


def ffmpeg(*args: str) -> None:
    tool = shutil.which("ffmpeg")
    if tool is None:
        pytest.fail("`ffmpeg` is not installed; run `make deps` as root", pytrace=False)
    subprocess.run([tool, "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def media_pack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pack.Pack]:
    """The sample programme's pack with two media files made now, opened as a kiosk opens it."""
    tmp = tmp_path_factory.mktemp("media")
    tone, clip = tmp / "tone.ogg", tmp / "clip.webm"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "libopus", str(tone))
    ffmpeg(
        *("-f", "lavfi", "-i", "testsrc=size=160x120:rate=15:duration=2"),
        *("-f", "lavfi", "-i", "sine=frequency=330:duration=2"),
        *("-c:v", "libvpx", "-b:v", "200k", "-deadline", "realtime", "-c:a", "libopus"),
        str(clip),
    )
    loaded = authoring.load_source(SAMPLE)
    source = dataclasses.replace(loaded, members={**loaded.members, TONE: tone, CLIP: clip})
    publisher = signing.SecretKey.generate()
    identity = age.X25519Identity.generate()
    built = pack.build(source, tmp / "m.pack", sign_key=publisher, recipients=[identity.recipient])
    with pack.Pack.open(
        built.pack_path, public_key=publisher.public_key, identities=[identity]
    ) as opened:
        yield opened


class CountingReader(io.RawIOBase):
    """Passes reads through to a pack member's reader, counting the bytes it hands out."""

    def __init__(self, inner: pack.MemberReader) -> None:
        super().__init__()
        self.inner = inner
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self.inner.seek(offset, whence)

    def tell(self) -> int:
        return self.inner.tell()

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = self.inner.readinto(buffer)
        self.bytes_read += n
        return n


class RefusingReader(io.BytesIO):
    """A reader whose second half fails its integrity check, as a tampered pack member does."""

    def read(self, size: int | None = -1) -> bytes:
        half = len(self.getvalue()) // 2
        if self.tell() >= half:
            raise pack.MemberIntegrityError("block 1 does not match the signed manifest")
        left = half - self.tell()
        return super().read(left if size is None or size < 0 else min(size, left))


def opened(reader: Reader) -> ReaderDevice:
    device = ReaderDevice(reader)
    assert device.open_for_reading()
    return device


# -- the device ---------------------------------------------------------------------------------


def test_device_reads_and_seeks_like_the_reader() -> None:
    payload = bytes(range(256)) * 10
    device = opened(io.BytesIO(payload))
    assert device.size() == len(payload)
    assert not device.isSequential()
    assert bytes(device.read(10).data()) == payload[:10]
    assert device.seek(2000)
    assert device.pos() == 2000
    assert bytes(device.read(100).data()) == payload[2000:2100]
    assert device.seek(len(payload) - 5)
    assert bytes(device.read(100).data()) == payload[-5:]
    assert device.atEnd()
    assert not device.seek(len(payload) + 1)


def test_device_is_read_only() -> None:
    device = opened(io.BytesIO(b"abc"))
    assert device.isReadable()
    assert not device.isWritable()


def test_device_over_a_pack_member_hands_out_the_member(media_pack: pack.Pack) -> None:
    expected = media_pack.read_member(CLIP)
    device = opened(media_pack.open_member(CLIP))
    assert device.size() == len(expected)
    assert device.seek(len(expected) // 3)
    assert bytes(device.read(70_000).data()) == expected[len(expected) // 3 :][:70_000]


def test_a_refused_block_ends_the_stream_and_says_why(qtbot: QtBot) -> None:
    device = opened(RefusingReader(bytes(1000)))
    assert len(device.read(400).data()) == 400
    assert device.seek(600)
    with qtbot.waitSignal(device.failed) as blocker:
        assert device.read(400).data() == b""
    assert blocker.args == ["MemberIntegrityError"]


# -- coverage -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("positions", "expected"),
    [
        ([(0, 0.0), (500, 0.5), (1000, 1.0)], 0.5),  # half of a 2 s medium played
        # the same half twice counts once
        ([(0, 0.0), (500, 0.5), (1000, 1.0), (0, 1.1), (500, 1.6), (1000, 2.1)], 0.5),
        ([(0, 0.0), (1900, 0.05)], 0.0),  # a jump is a seek, not playing
        ([(0, 0.0), (1900, 1.0)], 0.95),  # a late update on a busy machine is still play
        ([(0, 0.0), (1000, 1.0), (2000, 2.0)], 1.0),
    ],
)
def test_coverage_counts_distinct_continuous_play(
    positions: list[tuple[int, float]], expected: float
) -> None:
    coverage = Coverage()
    previous = None
    for ms, at in positions:
        if previous is not None and ms < previous:
            coverage.reset_position()
        coverage.position(ms, at=at)
        previous = ms
    assert coverage.fraction(2000) == pytest.approx(expected)


def test_coverage_allows_for_the_playback_rate() -> None:
    fast, normal = Coverage(), Coverage()
    for coverage, rate in ((fast, 8.0), (normal, 1.0)):
        coverage.position(0, at=0.0, rate=rate)
        coverage.position(4000, at=0.5, rate=rate)  # 4 s of media in 0.5 s of clock
    assert fast.fraction(8000) == pytest.approx(0.5)
    assert normal.fraction(8000) == 0.0  # at normal speed that is a seek


# -- playing from the pack ----------------------------------------------------------------------


@pytest.fixture
def media(qtbot: QtBot) -> Iterator[MediaView]:
    view = MediaView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    yield view
    player = view.player
    if shiboken6.isValid(player):
        with qtbot.waitSignal(player.destroyed, timeout=LOAD_MS):
            view.release()  # and the event loop destroys the player before the next test


def load(
    qtbot: QtBot, view: MediaView, reader: Reader | ReaderDevice, name: str, *, video: bool
) -> None:
    view.set_content(MediaContent(title="Listen", video=video, transcript_markdown="A tone."))
    view.set_source(reader, name)
    qtbot.waitUntil(lambda: button_named(view, "play").isEnabled(), timeout=LOAD_MS)


def test_the_kiosk_plays_into_a_real_audio_device() -> None:
    # The conftest's private PulseAudio server: QtMultimedia sees a sound card, not nothing.
    assert QMediaDevices.defaultAudioOutput().description() == "Null Output"


def test_audio_plays_from_the_decrypting_reader_and_reports_the_share(
    qtbot: QtBot, media: MediaView, media_pack: pack.Pack
) -> None:
    reader = CountingReader(media_pack.open_member(TONE))
    load(qtbot, media, reader, TONE, video=False)
    assert reader.bytes_read > 0
    assert media.player.duration() == pytest.approx(2000, abs=100)
    positions: list[int] = []
    media.player.positionChanged.connect(positions.append)
    shares: list[float] = []
    media.played.connect(shares.append)
    QTest.mouseClick(button_named(media, "play"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: media.player.mediaStatus() is QMediaPlayer.MediaStatus.EndOfMedia, timeout=LOAD_MS
    )
    assert len(positions) > 10
    assert positions == sorted(positions), "playback ran backwards"
    assert positions[-1] >= 1800
    assert shares == sorted(shares)
    assert shares[-1] >= 0.95
    assert reader.bytes_read == media_pack.member(TONE).size


def test_video_frames_come_from_the_pack(
    qtbot: QtBot, media: MediaView, media_pack: pack.Pack
) -> None:
    load(qtbot, media, media_pack.open_member(CLIP), CLIP, video=True)
    (video,) = media.findChildren(QVideoWidget)
    assert video.isVisible()
    frames: list[QVideoFrame] = []
    video.videoSink().videoFrameChanged.connect(lambda f: frames.append(QVideoFrame(f)))
    media.set_playback_rate(4.0)
    QTest.keyClick(button_named(media, "play"), Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: media.player.position() > 1000, timeout=LOAD_MS)
    assert any(f.isValid() and f.size().width() == 160 for f in frames)


def test_pause_reports_a_partial_share(
    qtbot: QtBot, media: MediaView, media_pack: pack.Pack
) -> None:
    load(qtbot, media, media_pack.open_member(TONE), TONE, video=False)
    QTest.keyClick(button_named(media, "play"), Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: media.player.position() > 400, timeout=LOAD_MS)
    with qtbot.waitSignal(media.played, timeout=LOAD_MS) as blocker:
        QTest.keyClick(button_named(media, "pause"), Qt.Key.Key_Space)
    assert blocker.args is not None
    assert 0.1 < blocker.args[0] < 0.9
    qtbot.waitUntil(lambda: button_named(media, "play").isVisible())


def test_skipping_to_the_end_is_not_playing_it(
    qtbot: QtBot, media: MediaView, media_pack: pack.Pack
) -> None:
    load(qtbot, media, media_pack.open_member(TONE), TONE, video=False)
    shares: list[float] = []
    media.played.connect(shares.append)
    QTest.keyClick(button_named(media, "play"), Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: media.player.position() > 300, timeout=LOAD_MS)
    (bar,) = media.findChildren(QSlider)
    bar.setFocus()
    QTest.keyClick(bar, Qt.Key.Key_End)
    qtbot.waitUntil(
        lambda: media.player.mediaStatus() is QMediaPlayer.MediaStatus.EndOfMedia, timeout=LOAD_MS
    )
    assert shares
    assert max(shares) < 0.6


def test_release_reports_the_share_and_lets_the_player_go(
    qtbot: QtBot, media: MediaView, media_pack: pack.Pack
) -> None:
    device = opened(media_pack.open_member(TONE))
    load(qtbot, media, device, TONE, video=False)
    QTest.mouseClick(button_named(media, "play"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: media.player.position() > 400, timeout=LOAD_MS)
    player = media.player
    with (
        qtbot.waitSignal(media.played) as share,
        qtbot.waitSignal(media.playing_changed) as playing,
        qtbot.waitSignal(player.destroyed, timeout=LOAD_MS),
    ):
        media.release()
        device.close()  # a caller closing the device early must not pull it from the player
    assert share.args is not None
    assert share.args[0] > 0.1
    assert playing.args == [False]
    assert not button_named(media, "play").isEnabled()


def test_leaving_mid_play_again_and_again_never_hangs(qtbot: QtBot, media_pack: pack.Pack) -> None:
    # Qt's media threads need the GIL while the GUI thread tears a player down; a player
    # stopped or destroyed the wrong way deadlocks here within a few rounds.
    for round_ in range(6):
        holder = QWidget()
        qtbot.addWidget(holder)
        view = MediaView()
        QVBoxLayout(holder).addWidget(view)
        holder.show()
        load(qtbot, view, media_pack.open_member(CLIP), CLIP, video=True)
        QTest.mouseClick(button_named(view, "play"), Qt.MouseButton.LeftButton)
        player = view.player
        qtbot.waitUntil(lambda: player.position() > 100, timeout=LOAD_MS)  # noqa: B023
        with qtbot.waitSignal(player.destroyed, timeout=LOAD_MS):
            if round_ % 2:
                view.release()
            holder.deleteLater()  # the view, and its player with it, go by the event loop


@pytest.mark.qt_log_ignore(
    r"Could not open media",  # Qt's own word on a file it cannot read; the test expects it
    r"This plugin does not support propagateSizeHints",
)
def test_a_medium_that_cannot_be_played_says_so(qtbot: QtBot, media: MediaView) -> None:
    device = opened(io.BytesIO(b"this is not a sound" * 100))
    media.set_content(MediaContent(title="Listen", video=False))
    with qtbot.waitSignal(media.player.errorOccurred, timeout=LOAD_MS):
        media.set_source(device, "broken.ogg")
    assert media.message() == "This cannot be played on this kiosk. Please tell an officer."
    assert not button_named(media, "play").isEnabled()


def test_a_tampered_medium_stops_and_says_so(
    qtbot: QtBot, media: MediaView, media_pack: pack.Pack
) -> None:
    media.set_content(MediaContent(title="Listen", video=True))
    media.set_source(RefusingReader(media_pack.read_member(CLIP)), CLIP)
    media.toggle()
    qtbot.waitUntil(lambda: bool(media.message()), timeout=LOAD_MS)
    assert media.message() == "This cannot be played on this kiosk. Please tell an officer."
