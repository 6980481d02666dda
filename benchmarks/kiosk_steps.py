"""Next -> next step shown, timed in the real kiosk window (run as a child: `python -m ...`).

The real `KioskUi` (window, screens, presenter, as `kiosk-app` builds them) runs on the
offscreen platform over a seeded kiosk whose participant has done every step but the last,
so Next is allowed on each. A participant driver signs in and taps Continue; then Next is
clicked through the whole programme and Back all the way again, several times. Each click
goes to the window's native window, as the window system delivers a touch, and Qt finds the
button under it. One
transition is timed from just before the click on Next to the end of the event-loop pass
in which the new step view got its paint event and the presenter announced "step shown"
(its log line is written too). Each pass does what `app.exec()` does, deferred deletes of
the old view included. The click's own handling (core player, journal commit, building the
view) is also reported. The reference is a full repaint of the same step screen, no new
step built.
Prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QChildEvent, QEvent, QEventLoop, QObject  # noqa: E402
from PySide6.QtWidgets import QApplication, QPushButton, QWidget  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402

from content_packs import model  # noqa: E402
from kiosk_app.app import configure_logging, open_kiosk  # noqa: E402
from kiosk_app.core.clock import ManualClock  # noqa: E402
from kiosk_app.store import keys  # noqa: E402
from kiosk_app.ui.main import KioskUi  # noqa: E402
from kiosk_app.ui.steps.frame import StepFrame  # noqa: E402
from tests.support.kiosk import (  # noqa: E402
    FAST_HASHER,
    START,
    build_sample_pack,
    install_sample,
    register,
    settle_first_login,
    work_until,
)
from tests.support.kiosk_ui import KioskUnderTest, Participant, tap_at  # noqa: E402

CODE = "ABC-00001"
PIN = "482916"
PASSES = 5  # each pass: Next through the whole programme, then Back to the start
DWELL_SECONDS = 20  # manual-clock time spent on each step before Next


class _Waiter:
    """The one part of pytest-qt's QtBot the participant driver uses, without pytest."""

    def waitUntil(self, callback: Callable[[], object], *, timeout: int = 5000) -> None:  # noqa: N802
        deadline = time.monotonic() + timeout / 1000
        while True:
            if callback() not in (False, None):
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the kiosk did not get there in time")
            _loop_pass(10)


class _PaintSpy(QObject):
    """Watches the step frame and each view put into it: notes when the frame's current view
    (or, with `whole`, the frame itself) receives a paint event.

    It follows new views from the moment the frame adopts them (ChildAdded is sent at once),
    so even a paint during the click itself would be seen.
    """

    def __init__(self, frame: StepFrame) -> None:
        super().__init__()
        self._frame = frame
        self.painted = False
        self.whole = False
        frame.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if kind == QEvent.Type.ChildAdded and watched is self._frame:
            child = cast(QChildEvent, event).child()
            if isinstance(child, QWidget):
                child.installEventFilter(self)
        elif kind == QEvent.Type.Paint:
            target = self._frame if self.whole else self._frame.view()
            if watched is target:
                self.painted = True
        return False


def _loop_pass(max_ms: int = 0) -> None:
    """One pass of what `app.exec()` does: pending events, then objects left to `deleteLater`
    (processEvents outside a running loop never deletes them, and the old step views would
    pile up in the frame)."""
    if max_ms:
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, max_ms)
    else:
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _until(done: Callable[[], bool], what: str) -> float:
    """Run event-loop passes until `done()`; the time after the pass that made it true."""
    deadline = time.monotonic() + 10
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        _loop_pass()
    return time.perf_counter()


def run(workdir: Path) -> dict[str, object]:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    sample = build_sample_pack(workdir)
    steps = list(sample.programme.all_steps())
    clock = ManualClock(START)
    data = workdir / "data"
    configure_logging(data)  # the app logs every step shown; so does this run
    services = open_kiosk(
        data,
        key_store=keys.FileKeyStore(data / keys.KEY_FILE_NAME),
        clock=clock,
        hasher=FAST_HASHER,
    )
    with services:
        install_sample(services.store, sample)
        who = register(services.store, programme=sample.programme, access_code=CODE)
        who = settle_first_login(services.store, who, own_pin=PIN, clock=clock)
        # Every step done but the last, and the participant back at the first step.
        work_until(
            services.store,
            who,
            sample.programme,
            step_id=steps[-1].id,
            back_to=steps[0].id,
            clock=clock,
        )
        ui = KioskUi(app, services)
        try:
            return _measure(app, ui, clock, steps)
        finally:
            ui.close()


def _measure(
    app: QApplication, ui: KioskUi, clock: ManualClock, steps: list[model.Step]
) -> dict[str, object]:
    window = ui.window
    window.resize(1280, 800)
    window.show()
    window.activateWindow()
    kiosk = KioskUnderTest(
        window, ui.screens, ui.presenter, ui.runner, ui.services, clock, ui.speaker
    )
    person = Participant(cast(QtBot, _Waiter()), kiosk)
    person.sign_in(CODE, PIN)
    person.wait_for_screen("home")
    person.tap("Continue")
    person.wait_for_screen("step")
    player = ui.presenter.player
    frame = ui.screens.step
    shown: list[str] = []
    player.step_shown.connect(shown.append)
    _until(lambda: bool(shown), "the first step")
    spy = _PaintSpy(frame)
    children = len(frame.findChildren(QWidget))
    nxt = person.button("next")
    back = person.button("back")

    def transition(button: QPushButton) -> tuple[float, float, str]:
        """(click to shown and painted, of which the click's own handling, step type)."""
        old = frame.view()
        shown.clear()
        spy.painted = False
        clock.advance(DWELL_SECONDS)
        start = time.perf_counter()
        tap_at(button)  # through the native window, as a touch comes
        clicked = time.perf_counter()
        view = frame.view()
        if view is None or view is old:
            raise RuntimeError("the click did not change the step")
        end = _until(lambda: spy.painted and bool(shown), "the next step shown and painted")
        if len(frame.findChildren(QWidget)) > children + 100:
            raise RuntimeError("old step views are not being deleted")
        return end - start, clicked - start, shown[-1]

    next_times: list[tuple[float, float, str]] = []
    back_times: list[float] = []
    for _ in range(PASSES):
        for _step in steps[:-1]:
            if not nxt.isEnabled():
                raise RuntimeError("Next is not allowed on a step done before")
            next_times.append(transition(nxt))
        for _step in steps[:-1]:
            back_times.append(transition(back)[0])

    repaint_times = []
    spy.whole = True
    for _ in range(len(next_times)):
        spy.painted = False
        start = time.perf_counter()
        frame.update()
        repaint_times.append(_until(lambda: spy.painted, "a repaint") - start)
    _loop_pass()
    return {
        "next": next_times,
        "back": back_times,
        "repaint": repaint_times,
        "platform": app.platformName(),
        "size": [window.width(), window.height()],
    }


def main() -> None:
    result = run(Path(sys.argv[1]))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
