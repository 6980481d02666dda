"""Qt Widgets views; the only package that imports Qt.

Entering the package first has PySide answer its per-import check without reading each
later module's source (`kiosk_app.ui.pyside_imports`).
"""

from kiosk_app.ui.pyside_imports import answer_from_namespace

answer_from_namespace()
