"""Plain data the views show or emit, so presenters can drive them without touching widgets.

The records on the way to the welcome screen are named tuples: Python 3.11 builds a frozen
dataclass in about 1 ms (it compiles each generated method), a named tuple in about 0.3 ms.
"""

from __future__ import annotations

import enum
from typing import NamedTuple


class TextSize(enum.Enum):
    """How big the participant wants the text; values are the base point size."""

    STANDARD = 16
    LARGE = 20
    EXTRA_LARGE = 26


class AccessibilityOptions(NamedTuple):
    """The accessibility choices of the person at the kiosk right now."""

    text_size: TextSize = TextSize.STANDARD
    high_contrast: bool = False
    read_aloud: bool = False


class LanguageOption(NamedTuple):
    """A language the participant can pick, named in that language ("Polski", not "Polish")."""

    code: str
    native_name: str


ENGLISH = LanguageOption(code="en", native_name="English")


class KeypadMode(enum.Enum):
    """What the keypad is collecting."""

    ACCESS_CODE = "access_code"
    PIN = "pin"
