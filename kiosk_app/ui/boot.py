"""The first seconds: welcome and login on screen while the store opens on a worker thread.

Neither screen needs any data, so the window is shown before SQLAlchemy, Alembic and the
services are even imported (DESIGN.md §7 cold start). Until the presenter takes over,
`BootScreens` moves between welcome and login and keeps a sign-in asked for too early.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from kiosk_app.ui.i18n import Translations
from kiosk_app.ui.kiosk_window import KioskWindow, ScreenName
from kiosk_app.ui.theme import apply_theme
from kiosk_app.ui.viewmodels import AccessibilityOptions

log = logging.getLogger(__name__)


class BootScreens(QObject):
    """The kiosk window with working welcome and login screens, before any service is open."""

    def __init__(self, app: QApplication) -> None:
        super().__init__()
        self.app = app
        self.translations = Translations(app)
        self.translations.switch_to("en")
        apply_theme(app, AccessibilityOptions())
        # No application-wide input filter yet: nobody can sign in until the store is open,
        # and a Python filter on every event would slow the first paint (the presenter
        # starts watching input when it takes over).
        self.window = KioskWindow(app, watch_input=False)
        self.pending_sign_in: tuple[str, str] | None = None
        w = self.window
        self._links: list[tuple[Any, Callable[..., object]]] = [
            (w.welcome.start_requested, self._show_login),
            (w.welcome.language_chosen, self.translations.switch_to),
            (w.welcome.accessibility_changed, lambda o: apply_theme(app, o)),
            (w.login.login_requested, self._hold_sign_in),
            (w.login.back_requested, self._show_welcome),
        ]
        for signal, slot in self._links:
            signal.connect(slot)

    def start(self) -> None:
        """Offer the languages and show the welcome screen."""
        self.window.welcome.set_languages(self.translations.language_options())
        self._show(ScreenName.WELCOME)

    def hand_over(self) -> tuple[str, str] | None:
        """Stop driving the screens; the sign-in asked for meanwhile, if any."""
        for signal, slot in self._links:
            signal.disconnect(slot)
        self._links.clear()
        pending, self.pending_sign_in = self.pending_sign_in, None
        return pending

    # -- internals ----------------------------------------------------------------------------

    def _show(self, name: ScreenName) -> None:
        self.window.show_screen(name)
        QTimer.singleShot(0, self, lambda: self._announce(name))

    def _announce(self, name: ScreenName) -> None:
        # The same line the presenter logs (benchmarks and the screenshot test wait for it).
        if self._links and self.window.current_screen() == name:
            log.info("screen shown: %s", name.value)

    def _show_login(self) -> None:
        self.window.login.clear()
        self._show(ScreenName.LOGIN)

    def _show_welcome(self) -> None:
        self.pending_sign_in = None
        self.window.login.keypad.set_locked(False)
        self.window.login.clear()
        self._show(ScreenName.WELCOME)

    def _hold_sign_in(self, access_code: str, pin: str) -> None:
        # The store is still opening: checked as soon as the presenter takes over.
        self.window.login.keypad.set_locked(True)
        self.pending_sign_in = (access_code, pin)


# While the loader imports and migrates (pure Python, holding the GIL), the GUI thread waits
# up to the interpreter's switch interval (5 ms) each time it runs any Python: a slot, an
# event handler. A shorter interval while loading keeps a tap on Start as quick as when idle.
LOADING_SWITCH_INTERVAL_S = 0.0005


class Loader(QObject):
    """Runs `work()` on a plain thread; `done` fires on the GUI thread when it has finished.

    While it runs, the interpreter switches threads every `switch_interval` seconds, so the
    GUI thread keeps answering the person in front of the kiosk.
    """

    done = Signal()

    def __init__(
        self, work: Callable[[], Any], *, switch_interval: float = LOADING_SWITCH_INTERVAL_S
    ) -> None:
        super().__init__()
        self._work = work
        self._switch_interval = switch_interval
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="kiosk-open", daemon=True)

    @property
    def started(self) -> bool:
        return self._thread.ident is not None

    def start(self) -> None:
        self._thread.start()

    def join(self) -> None:
        if self._thread.ident is not None:  # started
            self._thread.join()

    def _run(self) -> None:
        interval = sys.getswitchinterval()
        sys.setswitchinterval(min(interval, self._switch_interval))
        try:
            self.result = self._work()
        except BaseException as exc:  # delivered to the GUI thread, never lost in the worker
            self.error = exc
        finally:
            sys.setswitchinterval(interval)
        self.done.emit()


# glibc's M_ARENA_MAX (malloc.h): at most this many malloc arenas, however many threads.
_M_ARENA_MAX = -8
MALLOC_ARENAS = 2


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas (True if it did); call before the worker threads start.

    glibc gives each thread that allocates an arena of its own, up to eight per core, and
    memory freed in one is not reused by another: the loader, the task pools and the media
    threads each kept megabytes the others could have used. Elsewhere (musl, macOS,
    Windows) this does nothing.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, arenas))
