"""The kiosk's PyInstaller bundle as `make bundle` leaves it: where it is, what it weighs."""

from __future__ import annotations

import platform
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUNDLE_DIR = ROOT / "build" / "bundle"
BUNDLE = BUNDLE_DIR / "kiosk-app"
EXECUTABLE = BUNDLE / "kiosk-app"
MB = 1_000_000
# The folder as `du -sb` counts it: the 150 MB. About 149 MB now, Qt and its bindings
# 102 MB of it (FFmpeg 20, the QtQuick/QML libraries the FFmpeg plugin links 17, ICU 8 with
# its data trimmed, other Qt 38, bindings 18): docs/architecture.md, "Kiosk bundle".
SIZE_BUDGET_MB = 150
# The Debian packages the kiosk OS installs for the libraries the bundle leaves to it.
OS_PACKAGES = ROOT / "installer" / "kiosk" / "packages.txt"


def version() -> str:
    """The project's version, as the archive's name carries it."""
    with (ROOT / "pyproject.toml").open("rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def archive() -> Path:
    """`build/bundle/kiosk-app-<version>-linux-<arch>.tar.gz`."""
    return BUNDLE_DIR / f"kiosk-app-{version()}-linux-{platform.machine()}.tar.gz"


def os_packages() -> list[str]:
    """The packages installer/kiosk/packages.txt names, in its order."""
    lines = OS_PACKAGES.read_text(encoding="utf-8").splitlines()
    return [name for line in lines if (name := line.partition("#")[0].strip())]


def folder_bytes(folder: Path = BUNDLE) -> int:
    """The folder's size in bytes, as `du -sb` reports it."""
    done = subprocess.run(["du", "-sb", str(folder)], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[0])


def not_ready() -> str | None:
    """Why the bundle cannot be used as it is (missing, or older than its sources), or None.

    Make decides, from the same rule that builds it (`make -q` builds nothing).
    """
    if not EXECUTABLE.is_file():
        return f"no kiosk bundle at {EXECUTABLE.relative_to(ROOT)}"
    target = str(archive().relative_to(ROOT))
    if subprocess.run(["make", "-q", target], cwd=ROOT, capture_output=True).returncode != 0:
        return f"the kiosk bundle is older than its sources ({target})"
    return None
