"""Home tells the participant what the officer said about their reflections and letters: a
returned piece with the officer's comment and a button straight back to it; an accepted one."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QPushButton
from pytestqt.qtbot import QtBot

from kiosk_app.core.home import EnrolmentSummary, ReviewNote, Verdict
from kiosk_app.ui.screens.home import HomeScreen, ModuleProgress, ProgrammeCard, ReviewLine
from kiosk_app.ui.theme import MIN_TOUCH_TARGET_PX, apply_theme
from kiosk_app.ui.viewmodels import AccessibilityOptions
from tests.kiosk.ui.conftest import button_named

RETURNED = ReviewLine("what-happened", "What happened", True, "Please say who was affected.")
ACCEPTED = ReviewLine("letter", "Your letter", False)


def card(*reviews: ReviewLine, complete: bool = False) -> ProgrammeCard:
    return ProgrammeCard(
        enrolment_id="e1",
        title="Alcohol and you",
        available=True,
        percent=100 if complete else 60,
        complete=complete,
        days_left=12,
        modules=(ModuleProgress("Your drinking", 100 if complete else 60, complete),),
        completion_reference="ALC-7K2M-9QX4" if complete else None,
        reviews=reviews,
    )


@pytest.fixture
def home(qtbot: QtBot) -> HomeScreen:
    screen = HomeScreen()
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    qtbot.waitExposed(screen)
    return screen


def texts(home: HomeScreen) -> list[str]:
    return [w.text() for w in home.findChildren(QLabel) if w.isVisible() and w.text()]


def test_a_returned_piece_shows_the_officers_comment(home: HomeScreen) -> None:
    home.set_programmes([card(RETURNED)])
    assert (
        "Your officer asked you to look again at What happened: Please say who was affected."
        in texts(home)
    )
    again = button_named(home, "look again at What happened")
    assert again.isVisible()
    assert again.text() == "Look again at What happened"


def test_look_again_asks_for_that_step_of_that_enrolment(qtbot: QtBot, home: HomeScreen) -> None:
    home.set_programmes([card(RETURNED)])
    with qtbot.waitSignal(home.rewrite_requested) as asked:
        QTest.mouseClick(
            button_named(home, "look again at What happened"), Qt.MouseButton.LeftButton
        )
    assert asked.args == ["e1", "what-happened"]


def test_an_accepted_piece_shows_as_accepted_with_nothing_to_do(home: HomeScreen) -> None:
    home.set_programmes([card(ACCEPTED)])
    assert "Your officer has read and accepted Your letter." in texts(home)
    assert [b for b in home.findChildren(QPushButton) if "look again" in b.accessibleName()] == []


def test_a_finished_programme_with_a_returned_piece_is_not_called_finished(
    home: HomeScreen,
) -> None:
    home.set_programmes([card(RETURNED, ACCEPTED, complete=True)])
    shown = texts(home)
    assert "You have finished. Well done!" not in shown
    assert not button_named(home, "Continue").isEnabled()
    assert button_named(home, "look again at What happened").isEnabled()
    home.set_programmes([card(ACCEPTED, complete=True)])
    assert "You have finished. Well done!" in texts(home)


def test_a_comment_is_shown_as_written(home: HomeScreen) -> None:
    odd = ReviewLine("what-happened", "What happened", True, "Say 100%1 more, not %2.")
    home.set_programmes([card(odd)])
    assert "Your officer asked you to look again at What happened: Say 100%1 more, not %2." in (
        texts(home)
    )


def test_signing_out_leaves_no_comment_on_screen(home: HomeScreen) -> None:
    home.set_programmes([card(RETURNED)])
    home.set_programmes([])
    assert not any("who was affected" in t for t in texts(home))
    assert [b for b in home.findChildren(QPushButton) if "look again" in b.accessibleName()] == []


def test_a_card_carries_the_cores_review_notes_returned_first() -> None:
    summary = EnrolmentSummary(
        enrolment_id="e9",
        programme_id="alcohol-and-you",
        title="Alcohol and you",
        available=True,
        percent=100,
        complete=True,
        modules=(),
        due_date=date(2030, 3, 24),
        due_text="12 days left",
        overdue=False,
        completion_reference=None,
        reviews=(
            ReviewNote("what-happened", "What happened", Verdict.RETURNED, "Say more."),
            ReviewNote("letter", "Your letter", Verdict.ACCEPTED, ""),
        ),
    )
    made = ProgrammeCard.from_summary(summary, today=date(2030, 3, 12))
    assert made.reviews == (
        ReviewLine("what-happened", "What happened", True, "Say more."),
        ReviewLine("letter", "Your letter", False, ""),
    )
    assert made.returned == (ReviewLine("what-happened", "What happened", True, "Say more."),)


def test_look_again_is_big_enough_to_touch(qtbot: QtBot, app: QApplication) -> None:
    apply_theme(app, AccessibilityOptions())
    screen = HomeScreen()
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    qtbot.waitExposed(screen)
    screen.set_programmes([card(RETURNED)])
    again = button_named(screen, "look again at What happened")
    assert again.height() >= MIN_TOUCH_TARGET_PX
