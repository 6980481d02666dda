"""Quiz choices are saved as they are made: logged out mid-quiz, the participant finds them."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QPushButton
from sqlalchemy import func, select

from content_packs import model
from kiosk_app.app import KioskServices, open_kiosk
from kiosk_app.core.clock import ManualClock
from kiosk_app.store import keys, repos
from kiosk_app.store.models import JournalEvent
from kiosk_app.ui.steps.quiz import QuizView
from tests.support.kiosk import (
    FAST_HASHER,
    SamplePack,
    Seeded,
    open_test_store,
    register,
    settle_first_login,
    work_until,
)
from tests.support.kiosk_ui import KioskUnderTest, Participant
from tests.support.walk import current

CODE = "ABC-00001"
PIN = "482916"


@pytest.fixture
def quiz_step(sample: SamplePack) -> model.QuizStep:
    step = next(
        s
        for s in sample.programme.all_steps()
        if isinstance(s, model.QuizStep) and len(s.questions) > 1
    )
    assert isinstance(step, model.QuizStep)
    return step


@pytest.fixture
def seeded(
    services: KioskServices, sample: SamplePack, clock: ManualClock, quiz_step: model.QuizStep
) -> Seeded:
    """A participant who stopped on a quiz of several questions."""
    who = register(services.store, programme=sample.programme, access_code=CODE, clock=clock)
    who = settle_first_login(services.store, who, own_pin=PIN, clock=clock)
    work_until(services.store, who, sample.programme, step_id=quiz_step.id, clock=clock)
    return who


def open_quiz(person: Participant, kiosk: KioskUnderTest, who: Seeded) -> QuizView:
    person.sign_in(who.access_code, who.pin)
    person.wait_for_screen("home")
    person.tap("Continue")
    person.wait_for_screen("step")
    view = kiosk.presenter.player.view()
    assert isinstance(view, QuizView)
    person.qtbot.waitUntil(view.isVisible)
    return view


def option(view: QuizView, text: str) -> QPushButton:
    found = [b for b in view.findChildren(QPushButton) if b.accessibleName() == text]
    assert len(found) == 1
    return found[0]


def saved_choices(services: KioskServices, who: Seeded, step_id: str) -> object:
    """The draft as a kiosk started afresh on the same data folder would read it."""
    with open_test_store(services.data_dir) as store, store.unit() as s:
        draft = repos.drafts(
            s, participant_id=who.participant_id, enrolment_id=who.enrolment_id
        ).get(step_id)
    return None if draft is None else draft.get("answers")


def answered(services: KioskServices) -> int:
    with services.store.unit() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(JournalEvent)
                .where(JournalEvent.type == "quiz.answered")
            )
            or 0
        )


def test_each_choice_is_saved_at_once(
    kiosk: KioskUnderTest,
    person: Participant,
    seeded: Seeded,
    services: KioskServices,
    quiz_step: model.QuizStep,
) -> None:
    first, second = quiz_step.questions[:2]
    view = open_quiz(person, kiosk, seeded)
    person.tap(first.options[1].text, view)
    # Committed by the tap itself: a kiosk killed now and started again has it.
    assert saved_choices(services, seeded, quiz_step.id) == {first.id: 1}
    person.tap(first.options[0].text, view)  # a change of mind is saved too
    assert saved_choices(services, seeded, quiz_step.id) == {first.id: 0}
    person.tap("next question", view)
    person.tap(second.options[1].text, view)
    assert saved_choices(services, seeded, quiz_step.id) == {first.id: 0, second.id: 1}
    assert answered(services) == 0  # choosing is not answering: no attempt is used up


@pytest.mark.parametrize("logout", ["idle", "break"])
def test_logged_out_mid_quiz_the_choices_are_there_on_return(
    kiosk: KioskUnderTest,
    person: Participant,
    seeded: Seeded,
    services: KioskServices,
    quiz_step: model.QuizStep,
    logout: str,
) -> None:
    first, second = quiz_step.questions[:2]
    view = open_quiz(person, kiosk, seeded)
    person.tap(first.options[2 % len(first.options)].text, view)
    if logout == "idle":
        with services.store.unit() as s:
            timeout = repos.settings(s).idle_timeout_seconds
        kiosk.clock.advance(timeout + 1)
    else:
        person.tap("take a break")
    person.wait_for_screen("welcome")
    assert kiosk.presenter.player.view() is None

    view = open_quiz(person, kiosk, seeded)
    assert current(kiosk).current_step_id == quiz_step.id
    assert view.answers() == {first.id: 2 % len(first.options)}
    assert option(view, first.options[2 % len(first.options)].text).isChecked()
    # Back at the first question still to answer.
    assert option(view, second.options[0].text).isVisible()
    assert not option(view, first.options[0].text).isVisible()


def test_a_restarted_kiosk_shows_the_choices(
    kiosk: KioskUnderTest,
    person: Participant,
    seeded: Seeded,
    services: KioskServices,
    quiz_step: model.QuizStep,
    clock: ManualClock,
) -> None:
    """As after a crash: a second kiosk on the same data folder, nobody signed out here."""
    first = quiz_step.questions[0]
    view = open_quiz(person, kiosk, seeded)
    person.tap(first.options[1].text, view)
    data = services.data_dir
    with open_kiosk(
        data,
        key_store=keys.FileKeyStore(data / keys.KEY_FILE_NAME),
        clock=clock,
        hasher=FAST_HASHER,
    ) as restarted:
        session = restarted.session
        assert session.sign_in(access_code=seeded.access_code, pin=seeded.pin).ok
        player = session.open_enrolment(enrolment_id=seeded.enrolment_id)
        assert player.current_step_id == quiz_step.id
        assert player.draft() == {"answers": {first.id: 1}}


def test_checking_the_answers_clears_the_choices_for_the_next_attempt(
    kiosk: KioskUnderTest,
    person: Participant,
    seeded: Seeded,
    services: KioskServices,
    quiz_step: model.QuizStep,
) -> None:
    view = open_quiz(person, kiosk, seeded)
    wrong = {
        q.id: next(i for i, o in enumerate(q.options) if not o.correct) for q in quiz_step.questions
    }
    for number, question in enumerate(quiz_step.questions):
        person.tap(question.options[wrong[question.id]].text, view)
        if number < len(quiz_step.questions) - 1:
            person.tap("next question", view)
    assert saved_choices(services, seeded, quiz_step.id) == wrong
    person.tap("check my answers", view)
    assert answered(services) == 1
    assert saved_choices(services, seeded, quiz_step.id) is None
