"""PySide's enums made by the standard library's quick path instead of its checked one.

PySide makes a class's enums as Python enums the first time the class is used, each with
`enum`'s functional API (`IntEnum("Key", [("Key_A", 65), ...], boundary=KEEP)`). Python
3.11 checks and sets up every member of such an enum one by one: about 19 µs a member and
0.25 ms an enum here. The way to the welcome screen makes 175 enums with 2,835 members,
88 ms on the GUI thread; the `Qt` namespace alone (93 enums, 1,195 members) took 41-46 ms
of it. A bare PySide window makes 37 of them (1,036 members).

`enum._simple_enum` is the standard library's own quick path to the same enum: it builds
`re.RegexFlag`, `http.HTTPStatus` and the rest of its own enums that way, and
`enum._test_simple_enum` compares such an enum with the checked one. `install()` has the
functional API take that path for the calls PySide makes, and only those: plain
`(name, int)` members that clash with nothing an enum has, no name twice, PySide's keyword
arguments. Anything else takes Python's own path. The `Qt` namespace then takes 17-37 ms
(three fresh processes).

The enum made is the checked one's equal: the same members in the same order, aliases,
values, flag masks and boundary, and each member stored on the class as the checked path
stores it (not behind the quick path's redirect, which would make every `Qt.Key.Key_A`
a Python call). `tests/kiosk/ui/test_pyside_enums.py` compares the two for every enum of
every PySide module the kiosk uses, and for generated ones.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Sequence
from typing import Any

_checked_create: Any = enum.EnumType.__dict__["_create_"]
_quick_path: Any = getattr(enum, "_simple_enum")  # noqa: B009  (private: typeshed omits it)
_BASES = (enum.Enum, enum.IntEnum, enum.Flag, enum.IntFlag)
# Every name an enum of each base has from its classes (`name`, `value`, int's `real`...):
# the checked path stores a member named so behind a redirect, so such calls take that path.
_TAKEN = {base: frozenset(name for cls in base.__mro__ for name in vars(cls)) for base in _BASES}


def quick_members(
    cls: type,
    names: object,
    *,
    module: object = None,
    qualname: object = None,
    type: object = None,  # noqa: A002  (the functional API's own keyword)
    start: int = 1,
    boundary: object = None,
) -> dict[str, int] | None:
    """The members of a call shaped as PySide's, by name; None for any other call."""
    if cls not in _BASES or module is not None or qualname is not None or type is not None:
        return None
    if start != 1 or boundary is not enum.KEEP or not isinstance(names, list):
        return None
    members: dict[str, int] = {}
    for item in names:
        if not (isinstance(item, tuple) and len(item) == 2):
            return None
        name, value = item
        if (
            not isinstance(name, str)
            or not name.isidentifier()
            or name.startswith("_")
            or name in _TAKEN[cls]
            or name in members
            or value.__class__ is not int
        ):
            return None
        members[name] = value
    return members


def build(cls: type[enum.Enum], class_name: str, members: dict[str, int], module: str) -> Any:
    """The enum `cls(class_name, members)` with `module`, made by `enum._simple_enum`."""
    body: dict[str, object] = {**members, "__module__": module}
    shell = type(class_name, (), body)
    made = _quick_path(cls, boundary=enum.KEEP if issubclass(cls, enum.Flag) else None)(shell)
    # The quick path leaves a redirect under each name; the checked path stores the member
    # (an alias: the member it aliases) where no base class has that name, which
    # `quick_members` made sure of. `type.__setattr__`: EnumType's refuses to rebind members.
    for name, member in made._member_map_.items():
        type.__setattr__(made, name, member)
    type.__setattr__(made, "__doc__", None)  # the quick path writes one; the checked does not
    return made


def _create(cls: type[enum.Enum], class_name: str, names: Sequence[Any], **kwargs: Any) -> Any:
    # The module the checked path names: the caller of `EnumType.__call__`, two frames up
    # from here as from `_create_` itself.
    if kwargs.get("module") is None:
        try:
            caller = sys._getframe(2).f_globals["__name__"]
        except (AttributeError, ValueError, KeyError):
            caller = None
        members = quick_members(cls, names, **kwargs)
        if members is not None and isinstance(caller, str):
            return build(cls, class_name, members, caller)
        kwargs["module"] = caller
    return _checked_create(cls, class_name, names, **kwargs)


def install() -> None:
    """Have `enum`'s functional API take the quick path for PySide's calls (idempotent)."""
    setattr(enum.EnumType, "_create_", _create)  # noqa: B010  (typeshed omits _create_)


def installed() -> bool:
    return enum.EnumType.__dict__.get("_create_") is _create
