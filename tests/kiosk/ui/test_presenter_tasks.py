"""The presenters' small machinery: the task runner's threads, and coalesced autosave."""

from __future__ import annotations

import functools
import threading
from typing import Any

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kiosk_app.ui.presenters.autosave import Autosave
from kiosk_app.ui.tasks import TaskRunner


@pytest.fixture
def runner(qapp: QApplication) -> TaskRunner:
    return TaskRunner()


def test_work_runs_off_the_gui_thread_and_the_result_comes_back_on_it(
    qtbot: QtBot, runner: TaskRunner
) -> None:
    gui = threading.get_ident()
    seen: dict[str, Any] = {}

    def work() -> int:
        seen["worker"] = threading.get_ident()
        return 42

    def done(result: int) -> None:
        seen["result"] = result
        app = QApplication.instance()
        assert app is not None
        seen["callback on GUI thread"] = QThread.currentThread() is app.thread()

    with qtbot.waitSignal(runner.busy_changed, check_params_cb=lambda busy: not busy):
        runner.submit(work, on_done=done)
        assert runner.busy
    assert seen["worker"] != gui
    assert seen["result"] == 42
    assert seen["callback on GUI thread"]
    assert not runner.busy


def test_a_failure_is_delivered_not_lost(qtbot: QtBot, runner: TaskRunner) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        raise LookupError("no such participant")

    with qtbot.waitSignal(runner.busy_changed, check_params_cb=lambda busy: not busy):
        runner.submit(
            work, on_done=lambda _: pytest.fail("no result expected"), on_error=errors.append
        )
    assert [type(e) for e in errors] == [LookupError]


def test_tasks_run_one_at_a_time_in_order(qtbot: QtBot, runner: TaskRunner) -> None:
    order: list[int] = []
    results: list[int] = []

    def job(n: int) -> int:
        order.append(n)
        return n

    for n in range(5):
        runner.submit(functools.partial(job, n), on_done=results.append)
    qtbot.waitUntil(lambda: not runner.busy)
    assert order == results == [0, 1, 2, 3, 4]


def test_autosave_coalesces_a_burst_into_one_save_of_the_newest_text(qtbot: QtBot) -> None:
    saved: list[dict[str, Any]] = []
    autosave = Autosave(saved.append, delay_ms=20)
    for text in ("H", "Ha", "Hal", "Half"):
        autosave.changed({"text": text})
    assert saved == []
    qtbot.waitUntil(lambda: saved == [{"text": "Half"}])
    assert not autosave.pending()


def test_autosave_flush_saves_at_once_and_only_what_is_pending() -> None:
    saved: list[dict[str, Any]] = []
    autosave = Autosave(saved.append, delay_ms=60_000)
    autosave.flush()
    assert saved == []
    autosave.changed({"items": ["Walk away"]})
    autosave.flush()
    autosave.flush()
    assert saved == [{"items": ["Walk away"]}]
