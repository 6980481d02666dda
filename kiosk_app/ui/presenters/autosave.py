"""Autosave of a step's draft: every change is saved, bursts of typing coalesced into one write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

# A write is a committed SQLite transaction (fsync): one per keystroke would stall typing on
# a slow kiosk disk. A pause this short still saves every change, and leaving the step,
# a break or an idle logout saves at once (`flush`).
AUTOSAVE_DELAY_MS = 300


class Autosave(QObject):
    """`changed(content)` schedules a save of the newest content; `flush()` saves it now."""

    def __init__(
        self,
        save: Callable[[dict[str, Any]], None],
        *,
        delay_ms: int = AUTOSAVE_DELAY_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._save = save
        self._pending: dict[str, Any] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.flush)

    def changed(self, content: dict[str, Any]) -> None:
        self._pending = dict(content)
        self._timer.start()  # restarts: saved once typing pauses

    def pending(self) -> bool:
        return self._pending is not None

    def flush(self) -> None:
        self._timer.stop()
        content, self._pending = self._pending, None
        if content is not None:
            self._save(content)
