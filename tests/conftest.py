"""Shared fixtures: external tools the tests need, found or failed loudly."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Qt tests must never need a display; a screenshot test sets DISPLAY itself.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _require_tool(name: str) -> Path:
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"`{name}` is not installed; run `make deps` as root "
            f"(it installs the Debian package `{name}`)",
            pytrace=False,
        )
    return Path(found)


@pytest.fixture(scope="session")
def age_cli() -> Path:
    """The reference `age` command (Debian package `age`)."""
    return _require_tool("age")


@pytest.fixture(scope="session")
def age_keygen_cli() -> Path:
    """The reference `age-keygen` command (Debian package `age`)."""
    return _require_tool("age-keygen")


@pytest.fixture(scope="session")
def minisign_cli() -> Path:
    """The `minisign` command (Debian package `minisign`)."""
    return _require_tool("minisign")
