"""Runs slow work (PIN hashing) off the GUI thread and hands the result back on the GUI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, SignalInstance, Slot

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Pending:
    on_done: Callable[[Any], None]
    on_error: Callable[[BaseException], None] | None


class _Job(QRunnable):
    def __init__(self, task_id: int, fn: Callable[[], Any], report: SignalInstance) -> None:
        super().__init__()
        self._task_id = task_id
        self._fn = fn
        self._report = report
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result: Any = self._fn()
        except BaseException as exc:  # delivered to the GUI thread, never lost in a worker
            self._report.emit(self._task_id, False, exc)
        else:
            self._report.emit(self._task_id, True, result)


class TaskRunner(QObject):
    """One worker thread, so tasks run in the order given; callbacks run on the GUI thread.

    `busy_changed(False)` fires after the last pending task's callback has run, so a test
    can wait for it; `wait()` blocks until the worker is done (at shutdown).
    """

    busy_changed = Signal(bool)
    _finished = Signal(int, bool, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pending: dict[int, _Pending] = {}
        self._next_id = 0
        # Emitted from the worker, received here: Qt queues it onto this object's (GUI) thread.
        self._finished.connect(self._deliver)

    def submit(
        self,
        fn: Callable[[], Any],
        *,
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run `fn()` on the worker; then `on_done(result)` or `on_error(exc)` on this thread."""
        self._next_id += 1
        was_idle = not self._pending
        self._pending[self._next_id] = _Pending(on_done, on_error)
        self._pool.start(_Job(self._next_id, fn, self._finished))
        if was_idle:
            self.busy_changed.emit(True)

    @property
    def busy(self) -> bool:
        """Whether a task is queued, running, or waiting for its callback."""
        return bool(self._pending)

    def wait(self, msecs: int = -1) -> bool:
        """Block until the worker has finished every task (callbacks may still be queued)."""
        return self._pool.waitForDone(msecs)

    @Slot(int, bool, object)
    def _deliver(self, task_id: int, ok: bool, value: object) -> None:
        pending = self._pending.pop(task_id, None)
        try:
            if pending is None:
                return
            if ok:
                pending.on_done(value)
            elif pending.on_error is not None:
                assert isinstance(value, BaseException)
                pending.on_error(value)
            else:
                assert isinstance(value, BaseException)
                log.error("a background task failed", exc_info=value)
        finally:
            if not self._pending:
                self.busy_changed.emit(False)
