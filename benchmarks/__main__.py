"""`make bench`: every DESIGN.md §7 budget with its figure and a reference from the same run."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from benchmarks.bundle import bundle_budgets
from benchmarks.dashboard import dashboard_budgets
from benchmarks.kiosk import kiosk_budgets
from benchmarks.kiosk_push import kiosk_push_budgets
from benchmarks.packs import pack_budgets
from benchmarks.report import Line, print_lines
from benchmarks.server import server_budgets


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--pack-mb", type=int, default=500, help="size of the generated pack")
    parser.add_argument("--workdir", type=Path, default=None, help="where to build (default: tmp)")
    parser.add_argument(
        "--only",
        choices=["packs", "server", "dashboard", "kiosk", "sync", "bundle"],
        default=None,
        help="run one group of budgets",
    )
    args = parser.parse_args()
    lines: list[Line] = []
    if args.only in (None, "packs"):
        with tempfile.TemporaryDirectory(dir=args.workdir, prefix="bench-") as tmp:
            lines += pack_budgets(Path(tmp), size_mb=args.pack_mb)
    if args.only in (None, "server"):
        with tempfile.TemporaryDirectory(dir=args.workdir, prefix="bench-server-") as tmp:
            lines += server_budgets(Path(tmp))
    if args.only in (None, "dashboard"):
        with tempfile.TemporaryDirectory(dir=args.workdir, prefix="bench-dashboard-") as tmp:
            lines += dashboard_budgets(Path(tmp))
    if args.only in (None, "kiosk"):
        with tempfile.TemporaryDirectory(dir=args.workdir, prefix="bench-kiosk-") as tmp:
            lines += kiosk_budgets(Path(tmp))
    if args.only in (None, "sync"):
        with tempfile.TemporaryDirectory(dir=args.workdir, prefix="bench-sync-") as tmp:
            lines += kiosk_push_budgets(Path(tmp))
    if args.only in (None, "bundle"):  # what `make bundle` built; PENDING lines if nothing
        with tempfile.TemporaryDirectory(dir=args.workdir, prefix="bench-bundle-") as tmp:
            lines += bundle_budgets(Path(tmp))
    print_lines(lines)
    return 1 if any(line.verdict == "FAIL" for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
