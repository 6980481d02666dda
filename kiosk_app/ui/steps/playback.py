"""Media played straight from a pack: a QIODevice over its decrypting reader, and a safe player.

QtMultimedia reads the device on its own threads, and those threads need Python's GIL (to
run `readData`, and to ask PySide whether a Python object overrides a virtual while Qt
tears its workers down). So the GUI thread must never wait for them while holding the GIL:
every player call that can stop or restart the playback engine runs as a queued slot from
the event loop (which releases the GIL), and a player is only ever destroyed by
`deleteLater`, never by Python's garbage collector.
"""

from __future__ import annotations

import io
import threading
from typing import BinaryIO

from PySide6.QtCore import (
    Q_ARG,
    QGenericArgumentHolder,
    QIODevice,
    QMetaObject,
    QObject,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

Reader = BinaryIO | io.RawIOBase


class ReaderDevice(QIODevice):
    """A read-only, random-access QIODevice over a seekable binary reader (a pack member).

    Bytes are decrypted and checked block by block as the player asks for them; nothing is
    written anywhere. QtMultimedia reads from its own threads, so each seek-and-read holds
    `lock`; pass one lock to every device over the same pack, whose members share one
    decrypting reader. `failed(reason)` fires (from the reading thread) when the reader
    refuses a block; the reason is the error's type name, never any content.
    """

    failed = Signal(str)

    def __init__(
        self,
        reader: Reader,
        parent: QObject | None = None,
        *,
        lock: threading.Lock | None = None,
    ) -> None:
        super().__init__()
        if parent is not None:
            self.setParent(parent)
        self._reader = reader
        self._lock = lock or threading.Lock()
        self._held = False
        self._broken = False
        with self._lock:
            self._size = int(reader.seek(0, io.SEEK_END))
            reader.seek(0)

    def open_for_reading(self) -> bool:
        """Open unbuffered: the pack reader already caches the block it verified last."""
        return self.open(QIODevice.OpenModeFlag.ReadOnly | QIODevice.OpenModeFlag.Unbuffered)

    def hold(self) -> None:
        """A player reads this device now: `close()` waits until the player is gone."""
        self._held = True

    def close(self) -> None:
        # A player thread may be reading this very moment; the device then closes when the
        # player that holds it is destroyed (it is the player's child).
        if not self._held:
            super().close()

    def isSequential(self) -> bool:
        return False

    def size(self) -> int:
        return self._size

    def seek(self, pos: int) -> bool:
        if pos < 0 or pos > self._size:
            return False
        return super().seek(pos)

    def bytesAvailable(self) -> int:
        if self._broken:
            return 0
        return max(0, self._size - self.pos()) + super().bytesAvailable()

    def atEnd(self) -> bool:
        # Qt's FFmpeg reader asks this before each read: a refused block ends the stream
        # (an empty read alone would have FFmpeg ask again, for ever).
        return self._broken or super().atEnd()

    def readData(self, maxlen: int) -> bytes:
        want = min(maxlen, self._size - self.pos())
        if want <= 0 or self._broken:
            return b""
        try:
            with self._lock:
                self._reader.seek(self.pos())
                data = self._reader.read(want)
        except Exception as exc:  # a tampered or unreadable block: stop here, say so
            # No logging here: this runs on a Qt thread; the receiver logs on the GUI thread.
            self._broken = True  # and no more reads: the rest cannot be trusted either
            self.setErrorString(type(exc).__name__)
            self.failed.emit(type(exc).__name__)
            return b""
        return bytes(data or b"")

    def writeData(self, data: bytes | bytearray | memoryview, len: int, /) -> int:
        return -1


def _queue(player: QMediaPlayer, slot: str, *args: QGenericArgumentHolder) -> None:
    """Run a QMediaPlayer slot from the event loop, where the GIL is free (see module doc)."""
    QMetaObject.invokeMethod(player, slot, Qt.ConnectionType.QueuedConnection, *args)


class PackPlayer(QObject):
    """One QMediaPlayer, one medium: load it once, drive it, `dispose()` it when done.

    `media` is the QMediaPlayer itself, for watching its signals and state. Give it a video
    output made after this object, so that Qt destroys the player before the output.
    """

    def __init__(self, *, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._player = QMediaPlayer(self)
        self._audio = QAudioOutput(self)
        self._player.setAudioOutput(self._audio)
        self._device: QIODevice | None = None

    @property
    def media(self) -> QMediaPlayer:
        return self._player

    def load(self, source: QIODevice | Reader, url_hint: str) -> ReaderDevice | QIODevice:
        """Play `source` (a device, opened here if needed, or a reader); it becomes ours.

        `url_hint` is only a name whose extension tells FFmpeg the format ("a.ogg").
        """
        if self._device is not None:
            raise RuntimeError("a PackPlayer plays one medium; make another for the next")
        device = source if isinstance(source, QIODevice) else ReaderDevice(source)
        if not device.isOpen() and not (
            device.open_for_reading()
            if isinstance(device, ReaderDevice)
            else device.open(QIODevice.OpenModeFlag.ReadOnly)
        ):
            raise OSError(f"cannot open {url_hint} for playing")
        if isinstance(device, ReaderDevice):
            device.hold()
        device.setParent(self)
        self._device = device
        # Nothing plays yet, so there is no engine to stop: this call does not block.
        self._player.setSourceDevice(device, QUrl(url_hint))
        return device

    def play(self) -> None:
        _queue(self._player, "play")

    def pause(self) -> None:
        _queue(self._player, "pause")

    def stop(self) -> None:
        _queue(self._player, "stop")

    def seek(self, ms: int) -> None:
        _queue(self._player, "setPosition", Q_ARG("qint64", max(0, ms)))

    def set_rate(self, rate: float) -> None:
        _queue(self._player, "setPlaybackRate", Q_ARG("double", rate))

    def dispose(self) -> None:
        """Stop and go: the player, then its device, are destroyed by the event loop."""
        self.stop()
        self.deleteLater()
