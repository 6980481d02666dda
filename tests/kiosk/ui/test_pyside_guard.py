"""Guard: PySide6 6.12.0 on CPython 3.11 over-released None and aborted a long-running kiosk."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot


def test_void_qt_calls_keep_none_alive(qtbot: QtBot) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    before = sys.getrefcount(None)
    for _ in range(1000):
        widget.setEnabled(True)
    assert sys.getrefcount(None) >= before - 10
