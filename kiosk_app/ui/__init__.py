"""Qt Widgets views; the only package that imports Qt.

Entering the package first has PySide answer its per-import check without reading each
later module's source (`kiosk_app.ui.pyside_imports`), and make its enums by the standard
library's quick path (`kiosk_app.ui.pyside_enums`), before any Qt module is imported.
"""

from kiosk_app.ui import pyside_enums
from kiosk_app.ui.pyside_imports import answer_from_namespace

answer_from_namespace()
pyside_enums.install()
