"""The kiosk's reference process: a bare PySide6 window and nothing else.

`python -m benchmarks.bare_window LOG` is started exactly as `python -m kiosk_app` is (same
interpreter, display, platform plugin and environment). It shows a full-screen QMainWindow
as the kiosk window does, and once the event loop has shown it logs "screen shown: bare"
in the kiosk's log format, as the kiosk's presenter logs its first screen. It runs until
SIGTERM. It imports nothing of ours, so it pays only for Qt.
"""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

MARK = "screen shown: bare"
_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # as kiosk_app.app's


def main() -> int:
    handler = logging.FileHandler(sys.argv[1], encoding="utf-8")
    handler.setFormatter(logging.Formatter(_LOG_FORMAT))
    log = logging.getLogger("bare")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    screen = window.screen()
    if screen is not None:
        window.setGeometry(screen.geometry())
    window.showFullScreen()
    QTimer.singleShot(0, lambda: log.info(MARK))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
