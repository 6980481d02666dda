"""PySide's enums made by the standard library's quick path (kiosk_app.ui.pyside_enums).

Each enum the quick path makes must equal the one Python's checked path makes from the
same call: every PySide enum the kiosk can meet, and generated ones.
"""

from __future__ import annotations

import enum
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kiosk_app.ui import pyside_enums

REPO = Path(__file__).resolve().parents[3]
PYSIDE_CALL: dict[str, Any] = {
    "module": None,
    "qualname": None,
    "type": None,
    "start": 1,
    "boundary": enum.KEEP,
}
KIOSK_QT_MODULES = (
    "QtCore",
    "QtGui",
    "QtWidgets",
    "QtMultimedia",
    "QtMultimediaWidgets",
    "QtNetwork",
    "QtPrintSupport",
    "QtTextToSpeech",
)
# Made through the functional API with kiosk_app.ui entered: Python's own path (names given
# as a string), which names this module and so pickles.
Colour = enum.Enum("Colour", "RED GREEN")


def differences(checked: Any, quick: Any) -> list[str]:
    """How `quick` differs from `checked` (two enums made from the same call); [] if none."""
    found: list[str] = []
    try:
        enum._test_simple_enum(checked, quick)  # type: ignore[attr-defined]
    except TypeError as exc:
        found.append(str(exc))
    for attr in ("__name__", "__qualname__", "__module__", "__doc__", "__bases__"):
        if getattr(checked, attr) != getattr(quick, attr):
            found.append(f"{attr}: {getattr(checked, attr)!r} != {getattr(quick, attr)!r}")
    if [(m.name, m.value) for m in checked] != [(m.name, m.value) for m in quick]:
        found.append("members, in order")
    if [(n, m.name) for n, m in checked.__members__.items()] != [
        (n, m.name) for n, m in quick.__members__.items()
    ]:
        found.append("__members__ (names and aliases, in order)")
    if {v: m.name for v, m in checked._value2member_map_.items()} != {
        v: m.name for v, m in quick._value2member_map_.items()
    }:
        found.append("_value2member_map_")
    for name in checked.__members__:
        stored_checked, stored_quick = checked.__dict__[name], quick.__dict__[name]
        if isinstance(stored_checked, checked) != isinstance(stored_quick, quick):
            found.append(f"{name} stored as {type(stored_quick).__name__}")
        if _seen_as(checked, name) != _seen_as(quick, name):
            found.append(f"{name}: {_seen_as(checked, name)} != {_seen_as(quick, name)}")
    if issubclass(checked, enum.Flag):
        for attr in ("_flag_mask_", "_singles_mask_", "_all_bits_", "_boundary_"):
            if getattr(checked, attr) != getattr(quick, attr):
                found.append(attr)
        every = checked._flag_mask_
        for what in (
            lambda cls: [m.name for m in cls(every)],
            lambda cls: (~cls(every)).value,
            lambda cls: repr(cls(every)),
        ):
            if _outcome(what, checked) != _outcome(what, quick):
                found.append(
                    f"composite flag: {_outcome(what, checked)} != {_outcome(what, quick)}"
                )
    return found


def _outcome(what: Any, cls: Any) -> tuple[str, object]:
    """What `what(cls)` gives, or the error it raises (Python's own flags have bugs, which
    the quick path must share rather than mend)."""
    try:
        return ("gives", what(cls))
    except Exception as exc:  # noqa: BLE001  (compared, not hidden)
        return ("raises", type(exc).__name__)


def _seen_as(cls: Any, name: str) -> tuple[object, ...]:
    member = getattr(cls, name)
    return (
        member.name,
        member.value,
        repr(member),
        str(member),
        format(member),
        _outcome(lambda c: c(member.value).name, cls),
    )


# -- generated enums, in-process ------------------------------------------------------------

_NAMES = st.from_regex(r"\A[A-Za-z][A-Za-z0-9_]{0,12}\Z").filter(
    lambda n: all(n not in taken for taken in pyside_enums._TAKEN.values())
)
_VALUES = st.one_of(
    st.integers(min_value=-3, max_value=40),
    st.integers(min_value=0, max_value=31).map(lambda b: 1 << b),
    st.integers(min_value=-(2**40), max_value=2**40),
)


@given(
    base=st.sampled_from([enum.Enum, enum.IntEnum, enum.Flag, enum.IntFlag]),
    members=st.lists(st.tuples(_NAMES, _VALUES), max_size=24, unique_by=lambda m: m[0]),
)
def test_a_generated_enum_is_the_checked_paths_equal(
    base: type[enum.Enum], members: list[tuple[str, int]]
) -> None:
    if issubclass(base, enum.Flag):  # Python's flags take no negative values
        members = [(n, abs(v)) for n, v in members]
    checked = pyside_enums._checked_create(
        base, "Probe", members, **{**PYSIDE_CALL, "module": __name__}
    )
    assert pyside_enums.quick_members(base, members, **PYSIDE_CALL) == dict(members)
    quick = pyside_enums.build(base, "Probe", dict(members), __name__)
    assert differences(checked, quick) == []


def test_a_call_not_shaped_as_pysides_takes_pythons_own_path() -> None:
    assert pyside_enums.installed()  # entering kiosk_app.ui installed it
    call = dict(PYSIDE_CALL)
    assert pyside_enums.quick_members(enum.IntEnum, [("A", 1)], **call) == {"A": 1}
    for refused in (
        ("A B", call),  # names as a string
        ([("A", 1), ("A", 2)], call),  # a name twice: Python refuses it
        ([("name", 1)], call),  # clashes with Enum.name
        ([("real", 1)], call),  # clashes with int.real
        ([("_A", 1)], call),
        ([("A", 1.5)], call),
        ([("A", 1)], {**call, "boundary": None}),
        ([("A", 1)], {**call, "module": "elsewhere"}),
        ([("A", 1)], {**call, "start": 0}),
    ):
        names, kwargs = refused
        assert pyside_enums.quick_members(enum.IntEnum, names, **kwargs) is None, refused
    # Through the functional API, anything else behaves as Python's own, module included.
    assert [m.name for m in Colour] == ["RED", "GREEN"]
    assert Colour.__module__ == __name__
    assert pickle.loads(pickle.dumps(Colour.GREEN)) is Colour.GREEN
    try:
        enum.IntEnum("Twice", [("A", 1), ("A", 2)])
    except TypeError:
        pass
    else:
        raise AssertionError("a name given twice was accepted")
    functional_api: Any = enum.IntEnum  # called as PySide calls it
    quick = functional_api("Quick", [("A", 1), ("B", 2)], boundary=enum.KEEP)
    assert quick.__module__ == __name__
    assert quick(2) is quick.B


# -- PySide's own enums, in a fresh process ----------------------------------------------------

_PROBE = """
import enum, importlib, json, sys
import kiosk_app.ui  # installs the quick path, before any Qt module
from kiosk_app.ui import pyside_enums
from tests.kiosk.ui.test_pyside_enums import differences
installed = enum.EnumType._create_
seen = {"quick": 0, "checked": 0, "differ": {}}

def compare(cls, class_name, names, **kwargs):
    made = installed(cls, class_name, names, **kwargs)
    shaped = kwargs.get("module") is None and pyside_enums.quick_members(cls, names, **kwargs)
    if shaped is None or shaped is False:
        seen["checked"] += 1
        return made
    seen["quick"] += 1
    kwargs["module"] = made.__module__
    checked = pyside_enums._checked_create(cls, class_name, names, **kwargs)
    found = differences(checked, made)
    if found:
        seen["differ"][class_name] = found[:3]
    return made

enum.EnumType._create_ = compare
for name in sys.argv[1:]:
    module = importlib.import_module("PySide6." + name)
    for attr in dir(module):
        getattr(module, attr)  # makes the class, and with it its enums
print(json.dumps(seen))
"""


def test_every_enum_of_the_kiosks_qt_modules_is_the_checked_paths_equal() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *KIOSK_QT_MODULES],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=True,
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["differ"] == {}
    # PySide 6.11 makes some 750 enums in these modules; all are shaped as the quick path takes.
    assert seen["checked"] == 0, seen
    assert seen["quick"] > 500, seen
