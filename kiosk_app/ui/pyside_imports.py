"""PySide's check of every later import, answered without reading the module's source.

PySide's `__feature__` switches (`snake_case`, `true_property`) apply per module, so PySide
records, for each module imported after it, whether the module uses PySide. It finds out
with `inspect.getsource(module)` and a search for "PySide6": the whole source of every
module, read, tokenized and kept in `linecache` for the life of the process. The kiosk
imports some 740 modules after PySide (its screens, then SQLAlchemy, Alembic, pydantic and
the rest on the loader thread). Measured here on the modules the kiosk imports:

- the screens' modules on the way to the welcome screen: 46 checks, 8-9 ms on the GUI
  thread, against 0.1 ms answered from the namespace;
- the loader's modules: 690 checks, 150-180 ms holding the interpreter, and 14 million
  characters of source left in `linecache`.

`answer_from_namespace` has PySide ask the module's namespace instead: a module uses
PySide when it holds a PySide module, class, or an object of a PySide class. The answer
only matters to modules that import `__feature__`, and no kiosk module does
(`tests/kiosk/ui/test_pyside_imports.py` holds both).
"""

from __future__ import annotations

import logging
import sys
from types import ModuleType

import shiboken6  # noqa: F401  (PySide's support modules exist once shiboken is loaded)

log = logging.getLogger(__name__)

_FEATURE_MODULES = ("shibokensupport.feature", "PySide6.support.feature")
_PYSIDE_PREFIXES = ("PySide6", "shiboken6", "Shiboken")


def holds_pyside(module: ModuleType) -> bool:
    """True when the module's namespace holds a PySide module, class or object."""
    for value in list(vars(module).values()):
        if isinstance(value, ModuleType):
            name = vars(value).get("__name__")
        elif isinstance(value, type):
            name = value.__module__
        else:
            name = type(value).__module__
        if isinstance(name, str) and name.startswith(_PYSIDE_PREFIXES):
            return True
    return False


def answer_from_namespace() -> bool:
    """Replace PySide's source scan with `holds_pyside`; False if PySide has none to replace."""
    for name in _FEATURE_MODULES:
        feature = sys.modules.get(name)
        if feature is not None and callable(getattr(feature, "_mod_uses_pyside", None)):
            feature._mod_uses_pyside = holds_pyside  # type: ignore[attr-defined]
            return True
    log.debug("PySide has no per-import source scan to replace")
    return False
