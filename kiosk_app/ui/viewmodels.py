"""Plain data the views show or emit, so presenters can drive them without touching widgets."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class TextSize(enum.Enum):
    """How big the participant wants the text; values are the base point size."""

    STANDARD = 16
    LARGE = 20
    EXTRA_LARGE = 26


@dataclass(frozen=True, slots=True)
class AccessibilityOptions:
    """The accessibility choices of the person at the kiosk right now."""

    text_size: TextSize = TextSize.STANDARD
    high_contrast: bool = False
    read_aloud: bool = False


@dataclass(frozen=True, slots=True)
class LanguageOption:
    """A language the participant can pick, named in that language ("Polski", not "Polish")."""

    code: str
    native_name: str


ENGLISH = LanguageOption(code="en", native_name="English")


class KeypadMode(enum.Enum):
    """What the keypad is collecting."""

    ACCESS_CODE = "access_code"
    PIN = "pin"
