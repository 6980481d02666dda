"""Pack download progress on screen: bytes, speed and time left, fed from the sync worker."""

from __future__ import annotations

from PySide6.QtCore import QLocale, QObject, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from kiosk_app.core.download_meter import DownloadMeter, TransferProgress
from kiosk_app.ui.officer.common import RetranslatingWidget

_STEPS = 1000


class DownloadRelay(QObject):
    """Give `report` to the sync engine as its progress callback. It runs on the sync's
    thread (the meter is touched only there); `progress` is delivered on the GUI thread, as
    Qt queues a signal to an object of another thread."""

    progress = Signal(object)  # TransferProgress

    def __init__(self, meter: DownloadMeter | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._meter = meter or DownloadMeter()

    def report(self, pack_id: str, version: int, done: int, total: int) -> None:
        shown = self._meter.update(pack_id, version, done, total)
        if shown is not None:
            self.progress.emit(shown)


def duration_text(seconds: float) -> str:
    """0:42, 12:05, 1:02:03: no words, so no plural forms to translate."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class DownloadView(RetranslatingWidget):
    """A progress bar and one line of details; hidden until a download reports."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bar = QProgressBar()
        self._bar.setRange(0, _STEPS)
        self._bar.setTextVisible(True)
        self._details = QLabel()
        self._details.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._bar)
        layout.addWidget(self._details)
        self._shown: TransferProgress | None = None
        self.setVisible(False)
        self._retranslate()

    def show_progress(self, progress: TransferProgress) -> None:
        self._shown = progress
        self._bar.setValue(round(progress.fraction * _STEPS))
        self._bar.setFormat(f"{round(progress.fraction * 100)} %")
        self._details.setText(self._describe(progress))
        self._bar.setAccessibleDescription(self._details.text())
        self.setVisible(True)

    def clear(self) -> None:
        self._shown = None
        self._bar.setValue(0)
        self._details.clear()
        self.setVisible(False)

    def percent(self) -> int:
        return round(self._bar.value() * 100 / _STEPS)

    def details(self) -> str:
        return self._details.text()

    def _describe(self, p: TransferProgress) -> str:
        locale = QLocale()
        size = self.tr("%1 of %2").replace("%1", locale.formattedDataSize(p.done))
        size = size.replace("%2", locale.formattedDataSize(p.total))
        if p.finished:
            timing = self.tr("done")
        elif p.bytes_per_second is None or p.seconds_left is None:
            timing = self.tr("measuring speed…")
        else:
            speed = self.tr("%1/s").replace(
                "%1", locale.formattedDataSize(round(p.bytes_per_second))
            )
            left = self.tr("%1 left").replace("%1", duration_text(p.seconds_left))
            timing = f"{speed}, {left}"
        what = self.tr("Programme %1 version %2").replace("%1", p.pack_id)
        return f"{what.replace('%2', str(p.version))}: {size}, {timing}"

    def _retranslate(self) -> None:
        self._bar.setAccessibleName(self.tr("Download progress"))
        self._details.setAccessibleName(self.tr("Download details"))
        if self._shown is not None:
            self._details.setText(self._describe(self._shown))
