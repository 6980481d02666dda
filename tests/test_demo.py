"""`make demo` does the main job end to end: server, published programme, enrolled kiosk."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_demo_enrols_a_kiosk_registers_a_participant_and_opens_the_kiosk(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "CI": "true", "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--dir", str(tmp_path / "demo"),
         "--seconds", "4"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "first sync: synced" in done.stdout
    assert "installed: alcohol-and-you v1" in done.stdout
    assert "sync after registering: synced" in done.stdout
    assert re.search(r"access code [0-9A-Z]{3}-\d{5} and PIN \d{6}", done.stdout)
    assert "kiosk closed after 4 s" in done.stdout
