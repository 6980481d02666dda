"""installer/icu_data.py: the trimmed ICU data library the kiosk bundle carries.

Built here from the wheel's library (a fraction of a second), then Qt is run against it in a
process of its own (tests/installer/icu_probe.py, with LD_LIBRARY_PATH on the library's folder)
for what Qt uses ICU for: QCollator, QLocale's case mapping, QTimeZone's names, QStringDecoder,
and a window drawing text. The same run against the wheel's own library must give the same
answers, so the assertions say what Qt does, not what a trimmed library happens to do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6 import QtCore

from installer import icu_data

REPO = Path(__file__).resolve().parents[2]
WHEEL_LIBRARY = Path(QtCore.__file__).resolve().parent / "Qt" / "lib" / icu_data.SONAME
TOOLS = {"icupkg": "icu-devtools", "genccode": "icu-devtools", "objcopy": "binutils",
         "readelf": "binutils", "ld": "binutils"}  # fmt: skip


@pytest.fixture(scope="module")
def trimmed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    for tool, package in TOOLS.items():
        if shutil.which(tool) is None:
            pytest.fail(f"`{tool}` is not installed; run `make deps` as root (package {package})")
    return icu_data.build(WHEEL_LIBRARY, tmp_path_factory.mktemp("icu") / "trimmed")


@pytest.fixture(scope="module")
def libraries(
    trimmed: tuple[Path, list[str]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Each ICU data library alone in a folder, by name."""
    wheel = tmp_path_factory.mktemp("icu") / "wheel"
    wheel.mkdir()
    (wheel / icu_data.SONAME).symlink_to(WHEEL_LIBRARY)
    return {"wheel": wheel / icu_data.SONAME, "trimmed": trimmed[0]}


def probe(library: Path) -> dict[str, Any]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LD_LIBRARY_PATH": str(library.parent),
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.installer.icu_probe"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


@pytest.mark.parametrize(
    ("item", "kept"),
    [
        ("root.res", True),
        ("cnvalias.icu", True),
        ("zoneinfo64.res", True),
        ("nfkc.nrm", True),
        ("coll/ucadata.icu", True),
        ("coll/pl.res", True),
        ("coll/cy.res", True),
        ("coll/zh.res", False),
        ("zone/en_GB.res", True),
        ("zone/pl.res", True),
        ("zone/de.res", False),
        ("pl.res", False),  # locale formats: QLocale has its own
        ("ibm-943_P15A-2003.cnv", False),
        ("unames.icu", False),
        ("brkitr/line.brk", False),
        ("translit/root.res", False),
        ("lang/pl.res", False),
    ],
)
def test_what_the_trimmed_package_keeps(item: str, kept: bool) -> None:
    assert icu_data.keep(item) is kept


def test_the_trimmed_library_is_small_and_exports_what_libicuuc_links(
    trimmed: tuple[Path, list[str]],
) -> None:
    library, kept = trimmed
    assert WHEEL_LIBRARY.stat().st_size > 30_000_000
    assert library.stat().st_size < 3_000_000
    dynamic = subprocess.run(
        ["readelf", "--dynamic", "--wide", str(library)], capture_output=True, text=True, check=True
    ).stdout
    assert f"Library soname: [{icu_data.SONAME}]" in dynamic
    address, size = icu_data.data_symbol(library)  # exported, global, default visibility
    assert size < library.stat().st_size
    assert set(icu_data.KEPT_ITEMS) <= set(kept)
    assert {"coll/root.res", "coll/ucadata.icu", "zone/root.res", "zone/en.res"} <= set(kept)
    assert not [item for item in kept if item.endswith(".cnv") or "/" in item and
                item.split("/")[0] not in ("coll", "zone")]  # fmt: skip


@pytest.mark.parametrize("which", ["wheel", "trimmed"])
def test_qt_sorts_cases_names_zones_decodes_and_draws_with_the_library(
    libraries: dict[str, Path], which: str
) -> None:
    found = probe(libraries[which])

    # The process used this library and no other.
    assert found["icu_data"] == [str(libraries[which].resolve())]
    # Polish sorts ą as a letter of its own after a; English as an accented a.
    assert found["sorted_pl"] == ["a", "ab", "ą", "ąa", "b", "z"]
    assert found["sorted_en"] == ["a", "ą", "ąa", "ab", "b", "z"]
    assert (found["upper_tr"], found["lower_tr"], found["upper_en"]) == ("İ", "ı", "I")
    assert found["zone_en_standard"] == "Greenwich Mean Time"
    assert found["zone_en_daylight"] == found["zone_en_gb_daylight"] == "British Summer Time"
    assert found["zone_pl_standard"] == "czas uniwersalny"
    assert found["utf16"] == "Zażółć gęślą jaźń"
    assert found["utf16_decoder"] is True
    assert found["icu_decoders"]["UTF-7"] is True  # an ICU converter, found by its alias
    # Table-driven converters are what the trimmed library leaves out.
    assert found["icu_decoders"]["Shift_JIS"] is (which == "wheel")
    assert found["colours"] > 2, "the window drew no text"
