"""PySide's per-import check answered from the module's namespace (kiosk_app.ui.pyside_imports)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from PySide6 import QtCore
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QWidget

from kiosk_app.ui.pyside_imports import holds_pyside

REPO = Path(__file__).resolve().parents[3]


def _module(**namespace: object) -> ModuleType:
    module = ModuleType("probe")
    vars(module).update(namespace)
    return module


def test_a_module_holding_pyside_uses_it() -> None:
    assert holds_pyside(_module(QWidget=QWidget))
    assert holds_pyside(_module(QtCore=QtCore))
    assert holds_pyside(_module(SIZE=QSize(1, 2)))
    assert not holds_pyside(_module(json=json, Path=Path, n=3, text="PySide6"))


def test_later_imports_are_judged_without_reading_their_source() -> None:
    # In a fresh kiosk process: the screens' modules (which hold PySide) and the loader's
    # modules (which do not) are judged as PySide's own scan would, and no module's source
    # of theirs is read into linecache (PySide's own scan left 14 million characters there).
    probe = """
import json, linecache, sys
import kiosk_app.ui.main, kiosk_app.ui.boot
from kiosk_app.core.auth import LoginService
from kiosk_app.store.db import open_store
feature = sys.modules["shibokensupport.feature"]
judged = feature.pyside_feature_dict
print(json.dumps({
    "welcome": judged.get("kiosk_app.ui.screens.welcome"),
    "boot": judged.get("kiosk_app.ui.boot"),
    "auth": judged.get("kiosk_app.core.auth"),
    "sqlalchemy": judged.get("sqlalchemy.orm.session"),
    "check": feature._mod_uses_pyside.__module__,
    "sources_read": sorted(
        name for name in linecache.cache if "/kiosk_app/" in name or "/sqlalchemy/" in name
    ),
}))
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True, cwd=REPO
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["check"] == "kiosk_app.ui.pyside_imports"
    assert (seen["welcome"], seen["boot"]) == (0, 0)
    assert (seen["auth"], seen["sqlalchemy"]) == (-1, -1)
    assert seen["sources_read"] == []


def test_no_kiosk_module_selects_a_pyside_feature() -> None:
    # The namespace answer only differs from PySide's source scan in what `__feature__`
    # switching sees; a module that imported `__feature__` would need the scan back.
    selecting = []
    for path in sorted((REPO / "kiosk_app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            if "__feature__" in names:
                selecting.append(str(path.relative_to(REPO)))
    assert selecting == []
