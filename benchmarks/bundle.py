"""Kiosk bundle budgets: the bundled program's cold start to login, and the bundle's size.

The bundle is what `make bundle` left in build/bundle; this measures it and never builds it
(`make bench-bundle` builds it first when it is missing or older than its sources). Cold
starts run on `benchmarks.kiosk`'s desk, the same way as the source kiosk's: a private Xvfb
display, a null sound sink, the same seeded data folder, Start tapped through XTest, and the
kiosk's own "screen shown: ..." log lines. Bare window, source and bundle start in turn.
"""

from __future__ import annotations

import importlib.util
import shutil
import statistics
from pathlib import Path

from benchmarks.kiosk import RUNS, Desk, Tapper, open_desk, to_login_screen
from benchmarks.report import Line
from tests.support import bundle

COLD_NAME = f"bundled kiosk cold start to login (Xvfb, median of {RUNS})"
COLD_BUDGET = "<= 1.5 x bare PySide6 window"
SIZE_NAME = "kiosk bundle folder (du -sb)"
SIZE_BUDGET = f"< {bundle.SIZE_BUDGET_MB} MB"
BUDGETS = [(COLD_NAME, COLD_BUDGET), (SIZE_NAME, SIZE_BUDGET)]


def _cold_starts(desk: Desk) -> list[Line]:
    bundled_cmd = [str(bundle.EXECUTABLE), "--data-dir", str(desk.seeded.data)]
    bare, source, bundled = [], [], []
    tapper = Tapper(desk.env["DISPLAY"])
    try:
        for run in range(RUNS + 1):
            shown = desk.bare_shown()
            _, from_source = to_login_screen(desk, tapper)
            _, from_bundle = to_login_screen(desk, tapper, bundled_cmd)
            if run:  # the first run of each only warms the OS file cache
                bare.append(shown)
                source.append(from_source)
                bundled.append(from_bundle)
    finally:
        tapper.close()
    bare_s, source_s, bundled_s = (statistics.median(v) for v in (bare, source, bundled))
    ratio = bundled_s / bare_s
    return [
        Line(
            COLD_NAME,
            f"{bundled_s:.2f} s = {ratio:.2f} x bare",
            f"python -m kiosk_app {source_s:.2f} s; bare PySide6 window {bare_s:.2f} s",
            COLD_BUDGET,
            "PASS" if ratio <= 1.5 else "FAIL",
        )
    ]


def _size() -> Line:
    size_mb = bundle.folder_bytes() / bundle.MB
    archive = bundle.archive()
    packed = f"{archive.stat().st_size / bundle.MB:.0f} MB" if archive.is_file() else "missing"
    return Line(
        SIZE_NAME,
        f"{size_mb:.1f} MB (archive {packed})",
        f"PySide6 as installed {bundle.folder_bytes(_pyside_dir()) / bundle.MB:.0f} MB",
        SIZE_BUDGET,
        "PASS" if size_mb < bundle.SIZE_BUDGET_MB else "FAIL",
    )


def _pyside_dir() -> Path:
    spec = importlib.util.find_spec("PySide6")
    if spec is None or spec.origin is None:
        raise RuntimeError("PySide6 is not installed (make deps)")
    return Path(spec.origin).parent


def bundle_budgets(workdir: Path) -> list[Line]:
    why = bundle.not_ready()
    if why is not None:
        return [Line.pending(name, budget, f"{why}; make bundle") for name, budget in BUDGETS]
    missing = [tool for tool in ("Xvfb", "pulseaudio") if shutil.which(tool) is None]
    if missing:
        cold = Line(COLD_NAME, "not measured", f"{', '.join(missing)} missing (make deps)",
                    COLD_BUDGET, "FAIL")  # fmt: skip
        return [cold, _size()]
    try:
        with open_desk(workdir) as desk:
            lines = _cold_starts(desk)
    except Exception as exc:  # reported on the line, not a crashed `make bench`
        why = f"{type(exc).__name__}: {exc}"[:120]
        lines = [Line(COLD_NAME, "not measured", why, COLD_BUDGET, "FAIL")]
    return [*lines, _size()]
