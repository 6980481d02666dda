"""The console's background work: results that arrive after the console was locked are dropped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kiosk_app.ui.tasks import TaskRunner


class ConsoleTasks:
    """Runs work on the console's task runner; `invalidate()` (at every lock) makes every
    result still on its way stale, so nothing reaches a screen the next person may see."""

    def __init__(self, runner: TaskRunner) -> None:
        self._runner = runner
        self._generation = 0

    @property
    def busy(self) -> bool:
        return self._runner.busy

    def invalidate(self) -> None:
        self._generation += 1

    def submit(
        self,
        work: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[BaseException], None],
    ) -> None:
        generation = self._generation

        def deliver(result: object) -> None:
            if generation == self._generation:
                done(result)

        def fail(exc: BaseException) -> None:
            if generation == self._generation:
                failed(exc)

        self._runner.submit(work, on_done=deliver, on_error=fail)
