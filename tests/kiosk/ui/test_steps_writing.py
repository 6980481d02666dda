"""Steps where the participant writes or commits: reflection, letter, pledge, checkpoint."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPlainTextEdit, QWidget
from pytestqt.qtbot import QtBot

from kiosk_app.ui.steps.checkpoint import CheckpointContent, CheckpointView
from kiosk_app.ui.steps.pledge import PledgeContent, PledgeView
from kiosk_app.ui.steps.text_entry import TextEntryContent, TextEntryView
from tests.kiosk.ui.conftest import button_named
from tests.kiosk.ui.test_steps import focused, shown, visible_texts

# -- reflection and letter ----------------------------------------------------------------------


@pytest.fixture
def entry(qtbot: QtBot) -> TextEntryView:
    view = TextEntryView()
    view.set_content(TextEntryContent(title="Reflect", prompt="How did it feel?", min_words=40))
    shown(qtbot, view)
    return view


def editor_of(view: QWidget) -> QPlainTextEdit:
    editor = view.findChild(QPlainTextEdit)
    assert editor is not None
    return editor


def test_word_counter_follows_typing(qtbot: QtBot, entry: TextEntryView) -> None:
    assert entry.counter_text() == "0 of 40 words"
    assert editor_of(entry).hasFocus()
    QTest.keyClicks(editor_of(entry), "I felt bad about it")
    assert entry.counter_text() == "5 of 40 words"
    QTest.keyClicks(editor_of(entry), " and" * 35)
    assert entry.counter_text() == "40 of 40 words ✓ That is enough."


def test_every_change_is_emitted_for_autosave(qtbot: QtBot, entry: TextEntryView) -> None:
    saved: list[str] = []
    entry.text_changed.connect(saved.append)
    QTest.keyClicks(editor_of(entry), "Sorry")
    QTest.keyClick(editor_of(entry), Qt.Key.Key_Backspace)
    assert saved == ["S", "So", "Sor", "Sorr", "Sorry", "Sorr"]


def test_tab_leaves_the_box_and_return_submits(qtbot: QtBot, entry: TextEntryView) -> None:
    QTest.keyClicks(editor_of(entry), "Sorry")
    QTest.keyClick(editor_of(entry), Qt.Key.Key_Tab)
    assert editor_of(entry).toPlainText() == "Sorry"  # no tab typed into the answer
    assert button_named(entry, "submit").hasFocus()
    with qtbot.waitSignal(entry.submitted) as sent:
        QTest.keyClick(focused(), Qt.Key.Key_Return)
    assert sent.args == ["Sorry"]


@pytest.mark.parametrize(
    ("accepted", "needed", "message"),
    [
        (False, 1, "Please write 1 more word."),
        (False, 8, "Please write 8 more words."),
        (True, 0, "Saved."),
    ],
)
def test_the_cores_answer_is_shown_and_cleared_by_typing(
    qtbot: QtBot, entry: TextEntryView, accepted: bool, needed: int, message: str
) -> None:
    entry.show_result(accepted=accepted, words_needed=needed)
    assert message in visible_texts(entry)
    QTest.keyClicks(editor_of(entry), "x")
    assert message not in visible_texts(entry)


def test_a_draft_comes_back_without_an_autosave(qtbot: QtBot, entry: TextEntryView) -> None:
    with qtbot.assertNotEmitted(entry.text_changed):
        entry.set_text("one two three")
    assert entry.counter_text() == "3 of 40 words"
    QTest.keyClicks(editor_of(entry), " four")
    assert entry.text() == "one two three four"  # typing carries on at the end


def test_a_letter_says_an_officer_reads_it(qtbot: QtBot) -> None:
    view = TextEntryView()
    view.set_content(TextEntryContent(title="", prompt="Write to them.", min_words=50, letter=True))
    shown(qtbot, view)
    assert "An officer will read your letter before anyone else sees it." in visible_texts(view)
    assert button_named(view, "submit").text() == "Save my letter"
    assert editor_of(view).accessibleName() == "your letter"
    assert view.plain_text() == "Write to them."


# -- pledge -------------------------------------------------------------------------------------


def test_pledge_rows_and_own_words_by_keyboard(qtbot: QtBot) -> None:
    view = PledgeView()
    view.set_content(PledgeContent(title="My plan", items=("Walk away", "Call a friend")))
    shown(qtbot, view)
    assert button_named(view, "Walk away").hasFocus()
    with qtbot.waitSignal(view.changed) as changed:
        QTest.keyClick(focused(), Qt.Key.Key_Space)
    assert changed.args == [["Walk away"]]
    QTest.keyClick(focused(), Qt.Key.Key_Tab)
    QTest.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused().accessibleName() == "my own action 1"
    QTest.keyClicks(focused(), "Go to the gym")
    with qtbot.waitSignal(view.submitted) as sent:
        QTest.mouseClick(button_named(view, "save my plan"), Qt.MouseButton.LeftButton)
    assert sent.args == [["Walk away", "Go to the gym"]]


def test_pledge_draft_restores_choices_quietly(qtbot: QtBot) -> None:
    view = PledgeView()
    view.set_content(PledgeContent(title="My plan", items=("Walk away", "Call a friend")))
    shown(qtbot, view)
    with qtbot.assertNotEmitted(view.changed):
        view.set_items(["Call a friend", "Breathe"])
    assert view.items() == ["Call a friend", "Breathe"]
    assert button_named(view, "Call a friend").isChecked()
    assert not button_named(view, "Walk away").isChecked()


@pytest.mark.parametrize(
    ("accepted", "needed", "message"),
    [
        (False, 1, "Please add 1 more different action."),
        (False, 2, "Please add 2 more different actions."),
        (True, 0, "Saved."),
    ],
)
def test_pledge_shows_the_cores_answer(
    qtbot: QtBot, accepted: bool, needed: int, message: str
) -> None:
    view = PledgeView()
    view.set_content(PledgeContent(title="My plan", items=("Walk away",), min_items=1))
    shown(qtbot, view)
    assert "Choose at least 1 thing you will do." in visible_texts(view)
    view.show_result(accepted=accepted, items_needed=needed)
    assert message in visible_texts(view)


# -- checkpoint ---------------------------------------------------------------------------------


def test_checkpoint_confirms_by_keyboard(qtbot: QtBot) -> None:
    view = CheckpointView()
    view.set_content(
        CheckpointContent(title="So far", summary_markdown="You learned *three* things.")
    )
    shown(qtbot, view)
    assert "You learned three things." in view.plain_text()
    assert button_named(view, "confirm").hasFocus()
    with qtbot.waitSignal(view.confirmed):
        QTest.keyClick(focused(), Qt.Key.Key_Return)
    assert not button_named(view, "confirm").isVisible()
    assert "✓ Confirmed. Thank you." in visible_texts(view)


def test_a_confirmed_checkpoint_shows_so_on_return(qtbot: QtBot) -> None:
    view = CheckpointView()
    view.set_content(CheckpointContent(title="So far", summary_markdown="Done."))
    view.set_confirmed(True)
    shown(qtbot, view)
    assert view.is_confirmed()
    assert not button_named(view, "confirm").isVisible()
