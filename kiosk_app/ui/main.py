"""Runs the kiosk: QApplication, the locked window, the presenter, and the event loop."""

from __future__ import annotations

import logging
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from kiosk_app.app import KeyStoreChoice, KioskServices, open_kiosk
from kiosk_app.ui.i18n import Translations
from kiosk_app.ui.kiosk_window import KioskWindow, add_participant_screens
from kiosk_app.ui.presenter import KioskPresenter
from kiosk_app.ui.speech import Speaker
from kiosk_app.ui.tasks import TaskRunner
from kiosk_app.ui.theme import apply_theme
from kiosk_app.ui.viewmodels import AccessibilityOptions

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunOptions:
    data_dir: Path
    key_store: KeyStoreChoice = KeyStoreChoice.AUTO
    windowed: bool = False


class KioskUi:
    """The window and presenter over open services; `close()` signs out and stops everything."""

    def __init__(self, app: QApplication, services: KioskServices) -> None:
        self.services = services
        self.translations = Translations(app)
        self.translations.switch_to("en")
        apply_theme(app, AccessibilityOptions())
        self.window = KioskWindow(app)
        self.screens = add_participant_screens(self.window)
        self.runner = TaskRunner()
        self.speaker = Speaker()
        self.presenter = KioskPresenter(
            window=self.window,
            screens=self.screens,
            session=services.session,
            library=services.library,
            clock=services.clock,
            runner=self.runner,
            translations=self.translations,
            app=app,
            speaker=self.speaker,
        )
        self.presenter.start()

    def close(self) -> None:
        self.runner.wait()
        self.presenter.shutdown()
        self.window.allow_exit()
        self.window.close()


def _quit_on_signals(app: QApplication) -> QTimer:
    """SIGTERM (shutdown) and SIGINT end the event loop cleanly, so the logout is journaled."""

    def handler(signum: int, _frame: object) -> None:
        log.info("signal %d: closing", signum)
        app.exit(0)  # exit, not quit: the kiosk window refuses to close

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    # Python runs signal handlers only between bytecodes; a cheap timer lets it in.
    wake = QTimer()
    wake.setInterval(200)
    wake.timeout.connect(lambda: None)
    wake.start()
    return wake


def run(options: RunOptions) -> int:
    """Start the kiosk on `options.data_dir` and run until told to stop; the exit status."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Intervention Kiosk")
    services = open_kiosk(options.data_dir, key_store_choice=options.key_store)
    try:
        ui = KioskUi(app, services)
        wake = _quit_on_signals(app)
        if options.windowed:  # for development; still refuses to close (Ctrl+C ends it)
            ui.window.resize(1280, 800)
            ui.window.show()
        else:
            ui.window.enter_kiosk_mode()
        log.info("kiosk started")
        status = app.exec()
        wake.stop()
        ui.close()
    finally:
        services.close()
    log.info("kiosk stopped")
    return int(status)
