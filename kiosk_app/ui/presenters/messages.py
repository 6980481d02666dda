"""The core's answers in the participant's language (the core speaks plain English only)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from kiosk_app.core import auth
from kiosk_app.core.step_results import PledgeResult, TextResult

_CONTEXT = "Messages"


def _tr(text: str, n: int = -1) -> str:
    return QCoreApplication.translate(_CONTEXT, text, None, n)


def wrong_details() -> str:
    return _tr("That access code and PIN do not match. Please check them and try again.")


def locked() -> str:
    return _tr("This account is locked. Please ask an officer to help you.")


def please_wait(seconds: int) -> str:
    return _tr("Please wait %n seconds before trying again.", seconds)


def something_went_wrong() -> str:
    return _tr("Something went wrong. Please try again, or ask an officer.")


def pin_problem(core_message: str) -> str:
    """A refused PIN choice, translated; the core's wording is the lookup key."""
    known = {
        f"Your PIN must be {auth.PIN_LENGTH} numbers.": lambda: _tr(
            "Your PIN must be %n numbers.", auth.PIN_LENGTH
        ),
        "Your PIN cannot be the same number six times.": lambda: _tr(
            "Your PIN cannot be the same number six times."
        ),
        "Your PIN cannot be numbers in order, like 123456 or 654321.": lambda: _tr(
            "Your PIN cannot be numbers in order, like 123456 or 654321."
        ),
        "The two PINs are not the same. Please type it again.": lambda: _tr(
            "The two PINs are not the same. Please type it again."
        ),
        "Please choose a new PIN, not the one you were given.": lambda: _tr(
            "Please choose a new PIN, not the one you were given."
        ),
    }
    found = known.get(core_message)
    return found() if found is not None else core_message


def text_result(result: TextResult) -> str:
    if result.accepted:
        return _tr("Saved.")
    return _tr("Please write %n more words.", result.words_needed)


def pledge_result(result: PledgeResult) -> str:
    if result.accepted:
        return _tr("Saved.")
    return _tr("Please add %n more different actions.", result.items_needed)
