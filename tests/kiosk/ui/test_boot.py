"""The first seconds: the loader's thread, and what it leaves as it was."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest
from pytestqt.qtbot import QtBot

from kiosk_app.ui.boot import Loader


def test_the_loader_runs_its_work_off_the_gui_thread_with_quick_thread_switches(
    qtbot: QtBot,
) -> None:
    before = sys.getswitchinterval()
    seen: list[float] = []

    def work() -> str:
        seen.append(sys.getswitchinterval())
        return "open"

    loader = Loader(work, switch_interval=0.0002)
    started = [loader.started]
    with qtbot.waitSignal(loader.done):
        loader.start()
    loader.join()
    started.append(loader.started)
    assert started == [False, True]
    assert (loader.result, loader.error) == ("open", None)
    assert seen == [pytest.approx(0.0002)]
    assert sys.getswitchinterval() == before


def test_a_failure_reaches_the_gui_thread_and_the_interval_is_restored(qtbot: QtBot) -> None:
    before = sys.getswitchinterval()

    def work() -> None:
        raise OSError("no store here")

    loader = Loader(work)
    with qtbot.waitSignal(loader.done):
        loader.start()
    loader.join()
    assert isinstance(loader.error, OSError)
    assert sys.getswitchinterval() == before


def test_malloc_arenas_are_capped_where_glibc_allows() -> None:
    # In a child: the cap would otherwise stay on this test process.
    code = "from kiosk_app.ui.boot import limit_malloc_arenas; print(limit_malloc_arenas())"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert done.stdout.strip() == str(glibc)
