"""A participant walks the whole sample programme on the real kiosk window, as they would.

Keypad taps, answers and Next; a failed quiz and the retry, a too-short reflection, an idle
logout in the middle of a step and the resume at the same step with the draft intact. The
walk is driven by the programme model, not by step ids: each step is done by its type.
Time is the core's ManualClock (reading dwell, idle timeout, PIN delays); nothing sleeps.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from kiosk_app.app import KioskServices
from kiosk_app.core.home import completion_reference
from kiosk_app.store.models import Enrolment, JournalEvent
from tests.support.kiosk import (
    TEMPORARY_PIN,
    SamplePack,
    Seeded,
    register,
)
from tests.support.kiosk_ui import KioskUnderTest, Participant
from tests.support.walk import (
    HEADLESS_MEDIA,
    OWN_PIN,
    Walk,
    current,
    next_enabled,
)

CODE = "ABC-00001"
WRONG_PIN = "135790"


@pytest.fixture
def seeded(services: KioskServices, sample: SamplePack) -> Seeded:
    return register(services.store, programme=sample.programme, access_code=CODE)


# -- the walk -----------------------------------------------------------------------------------


@HEADLESS_MEDIA
def test_a_participant_walks_the_whole_programme(
    qtbot: QtBot,
    kiosk: KioskUnderTest,
    person: Participant,
    seeded: Seeded,
    sample: SamplePack,
    services: KioskServices,
) -> None:
    programme = sample.programme
    login = kiosk.window.login

    # A wrong PIN first: a plain message and a delay before the next try.
    person.sign_in(seeded.access_code, WRONG_PIN)
    assert login.keypad.message().startswith("That access code and PIN do not match")
    assert login.cooldown_active()
    qtbot.waitUntil(lambda: not login.cooldown_active())
    kiosk.clock.advance(2)
    person.enter_pin(TEMPORARY_PIN)

    # First login: the privacy notice, then their own PIN.
    person.wait_for_screen("privacy")
    person.tap("I understand")
    person.wait_for_screen("choose-pin")
    person.choose_pin(OWN_PIN)
    person.wait_for_screen("home")
    person.tap("Continue")
    person.wait_for_screen("step")

    walk = Walk(qtbot, kiosk, person, seeded)
    order = [s.id for s in programme.all_steps()]
    visited = []
    while True:
        player = current(kiosk)
        step = player.current_step
        visited.append(step.id)
        assert person.button("back").isEnabled() == (step.id != order[0])
        walk.do(step)
        person.tap("next")
        if kiosk.window.current_screen() == "completion":
            break
        assert current(kiosk).current_step_id == order[order.index(step.id) + 1]

    assert visited == order
    assert None not in (walk.failed_quiz, walk.short_text, walk.idle_logout)

    with services.store.unit() as s:
        events = list(s.scalars(select(JournalEvent).order_by(JournalEvent.seq)))
        enrolment = s.get(Enrolment, seeded.enrolment_id)
        assert enrolment is not None
        assert enrolment.status == "completed"
    attempts = [
        e.data["attempt"]
        for e in events
        if e.type == "quiz.answered" and e.step_id == walk.failed_quiz
    ]
    assert attempts[:2] == [1, 2]
    (completed,) = [e for e in events if e.type == "programme.completed"]
    reference = kiosk.screens.completion.reference_text().replace(" ", "")
    assert reference == completion_reference(
        programme_id=programme.id,
        enrolment_id=seeded.enrolment_id,
        completion_event_id=completed.id,
    )
    person.tap("Finish")
    person.wait_for_screen("welcome")
    assert [e.data for e in _session_ends(services)] == [{"reason": "idle"}, {"reason": "finished"}]


def alt_right(qtbot: QtBot) -> None:
    """The keyboard way to Next, pressed on whatever has focus."""
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    focused = QApplication.focusWidget()
    assert focused is not None
    QTest.keyClick(focused, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)


def _session_ends(services: KioskServices) -> list[JournalEvent]:
    with services.store.unit() as s:
        return list(
            s.scalars(
                select(JournalEvent)
                .where(JournalEvent.type == "session.ended")
                .order_by(JournalEvent.seq)
            )
        )


def test_back_and_next_follow_the_core(
    qtbot: QtBot, kiosk: KioskUnderTest, person: Participant, seeded: Seeded
) -> None:
    person.sign_in(seeded.access_code, TEMPORARY_PIN)
    person.wait_for_screen("privacy")
    person.tap("I understand")
    person.choose_pin(OWN_PIN)
    person.tap("Continue")
    person.wait_for_screen("step")
    first = current(kiosk).current_step
    assert not person.button("back").isEnabled()
    assert not next_enabled(person)
    alt_right(qtbot)
    assert current(kiosk).current_step_id == first.id, "Alt+Right past an unfinished step"
    Walk(qtbot, kiosk, person, seeded).do(first)
    alt_right(qtbot)
    assert current(kiosk).current_step_id != first.id
    assert person.button("back").isEnabled()
    person.tap("back")
    assert current(kiosk).current_step_id == first.id
    person.tap("take a break")
    person.wait_for_screen("welcome")
