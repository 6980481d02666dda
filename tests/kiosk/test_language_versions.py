"""A participant registered in Polish reads the Polish version of their programme; progress
stays the enrolment's, judged by the programme they were enrolled on (as the server does)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from content_packs import model
from kiosk_app.app import KioskServices, open_kiosk
from kiosk_app.core.clock import ManualClock
from kiosk_app.core.library import interchangeable, matching_language
from kiosk_app.core.player import ProgrammePlayer
from kiosk_app.store import keys, repos
from kiosk_app.store.models import CatalogueEntry
from tests.support.families import build_family, install_and_offer, offer, set_language
from tests.support.kiosk import (
    FAST_HASHER,
    START,
    SamplePack,
    Seeded,
    do_step,
    install_sample,
    register,
    settle_first_login,
    work_until,
)

CODE = "ABC-00001"
PIN = "482916"


@pytest.fixture(scope="module")
def family(tmp_path_factory: pytest.TempPathFactory) -> list[SamplePack]:
    return build_family(tmp_path_factory.mktemp("family"))


@pytest.fixture
def english(family: list[SamplePack]) -> SamplePack:
    return family[0]


@pytest.fixture
def polish(family: list[SamplePack]) -> SamplePack:
    return family[1]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def services(tmp_path: Path, clock: ManualClock) -> Iterator[KioskServices]:
    data = tmp_path / "kiosk"
    with open_kiosk(
        data, key_store=keys.FileKeyStore(data / "db.key"), clock=clock, hasher=FAST_HASHER
    ) as opened:
        yield opened


def enrol(
    services: KioskServices, english: SamplePack, clock: ManualClock, language: str
) -> Seeded:
    """Enrolled on the English programme, registered in `language`, first login done."""
    who = register(services.store, programme=english.programme, access_code=CODE, clock=clock)
    set_language(services.store, who.participant_id, language)
    return settle_first_login(services.store, who, own_pin=PIN, clock=clock)


def open_player(services: KioskServices, who: Seeded) -> ProgrammePlayer:
    session = services.session
    assert session.sign_in(access_code=who.access_code, pin=who.pin).ok
    return session.open_enrolment(enrolment_id=who.enrolment_id)


# -- which version ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wanted", "offered", "found"),
    [
        ("pl", ["en", "pl"], "pl"),
        ("pl-PL", ["en", "pl"], "pl"),
        ("pl_PL", ["en", "pl-pl", "pl"], "pl-pl"),
        ("PL", ["en", "pl"], "pl"),
        ("en-GB", ["en", "pl"], "en"),
        ("de", ["en", "pl"], None),
        ("", ["en"], None),
    ],
)
def test_matching_language_prefers_the_exact_code_then_the_primary_language(
    wanted: str, offered: list[str], found: str | None
) -> None:
    assert matching_language(wanted, offered) == found


@pytest.mark.parametrize(
    ("language", "found"),
    [
        ("pl", "alcohol-and-you-pl"),
        ("pl-PL", "alcohol-and-you-pl"),
        ("en", "alcohol-and-you"),  # the enrolled programme is English already
        ("en-GB", "alcohol-and-you"),
        ("de", "alcohol-and-you"),  # no German version: English it is
    ],
)
def test_the_player_opens_the_version_in_the_participants_language(
    services: KioskServices,
    english: SamplePack,
    polish: SamplePack,
    clock: ManualClock,
    language: str,
    found: str,
) -> None:
    install_and_offer(services.store, english, polish)
    player = open_player(services, enrol(services, english, clock, language))
    assert player.programme.id == found
    assert player.rules.id == "alcohol-and-you"  # judged as enrolled, always
    if found.endswith("-pl"):
        assert player.programme.title == "Alkohol i ty"
        assert player.current_step.title == polish.programme.step(player.current_step_id).title


@pytest.mark.parametrize("language", ["pl", "en"])
def test_home_names_the_programme_and_its_modules_in_the_version_they_read(
    services: KioskServices,
    english: SamplePack,
    polish: SamplePack,
    clock: ManualClock,
    language: str,
) -> None:
    install_and_offer(services.store, english, polish)
    who = enrol(services, english, clock, language)
    assert services.session.sign_in(access_code=who.access_code, pin=who.pin).ok
    [card] = services.session.home()
    read = polish.programme if language == "pl" else english.programme
    assert card.title == read.title
    assert [m.title for m in card.modules] == [m.title for m in read.modules]
    assert [m.module_id for m in card.modules] == [m.id for m in english.programme.modules]
    if language == "pl":
        assert card.title == "Alkohol i ty"
        assert card.title != english.programme.title


def test_a_version_not_in_the_catalogue_is_not_used(
    services: KioskServices, english: SamplePack, polish: SamplePack, clock: ManualClock
) -> None:
    install_and_offer(services.store, english)
    install_sample(services.store, polish)  # on disk, but never offered to this kiosk
    player = open_player(services, enrol(services, english, clock, "pl"))
    assert player.programme.id == "alcohol-and-you"


def test_a_withdrawn_version_is_not_used(
    services: KioskServices, english: SamplePack, polish: SamplePack, clock: ManualClock
) -> None:
    install_and_offer(services.store, english)
    install_sample(services.store, polish)
    offer(services.store, polish, revoked=True)
    player = open_player(services, enrol(services, english, clock, "pl"))
    assert player.programme.id == "alcohol-and-you"


def test_a_version_offered_but_not_yet_downloaded_is_not_used(
    services: KioskServices, english: SamplePack, polish: SamplePack, clock: ManualClock
) -> None:
    install_and_offer(services.store, english)
    offer(services.store, polish)
    player = open_player(services, enrol(services, english, clock, "pl"))
    assert player.programme.id == "alcohol-and-you"


def test_a_version_of_another_family_is_not_used(
    services: KioskServices, english: SamplePack, polish: SamplePack, clock: ManualClock
) -> None:
    install_and_offer(services.store, english, polish)
    with services.store.unit() as s:
        entry = s.get(CatalogueEntry, ("alcohol-and-you-pl", 1))
        assert entry is not None
        entry.family = "managing-anger-and-conflict"
    player = open_player(services, enrol(services, english, clock, "pl"))
    assert player.programme.id == "alcohol-and-you"


# -- interchangeable versions -------------------------------------------------------------------


def _replace_step(programme: model.Programme, step_id: str, **changes: object) -> model.Programme:
    modules = tuple(
        module.model_copy(
            update={
                "steps": tuple(
                    s.model_copy(update=changes) if s.id == step_id else s for s in module.steps
                )
            }
        )
        for module in programme.modules
    )
    return programme.model_copy(update={"modules": modules})


def _first(programme: model.Programme, kind: type[model.StepBase]) -> model.Step:
    return next(s for s in programme.all_steps() if isinstance(s, kind))


def _moved_right_option(programme: model.Programme) -> model.Programme:
    quiz = _first(programme, model.QuizStep)
    assert isinstance(quiz, model.QuizStep)
    first, *rest = quiz.questions
    flipped = first.model_copy(update={"options": tuple(reversed(first.options))})
    return _replace_step(programme, quiz.id, questions=(flipped, *rest))


def _one_question_fewer(programme: model.Programme) -> model.Programme:
    quiz = next(
        s for s in programme.all_steps() if isinstance(s, model.QuizStep) and len(s.questions) > 1
    )
    assert isinstance(quiz, model.QuizStep)
    return _replace_step(programme, quiz.id, questions=quiz.questions[:-1])


def _swapped_modules(programme: model.Programme) -> model.Programme:
    first, second, *rest = programme.modules
    return programme.model_copy(update={"modules": (second, first, *rest)})


def _optional_step(programme: model.Programme) -> model.Programme:
    return _replace_step(programme, _first(programme, model.ReadingStep).id, required=False)


def _longer_reading(programme: model.Programme) -> model.Programme:
    reading = _first(programme, model.ReadingStep)
    assert isinstance(reading, model.ReadingStep)
    return _replace_step(programme, reading.id, min_dwell_seconds=reading.min_dwell_seconds + 30)


def _fewer_pledge_items(programme: model.Programme) -> model.Programme:
    pledge = _first(programme, model.PledgeStep)
    assert isinstance(pledge, model.PledgeStep)
    return _replace_step(programme, pledge.id, items=pledge.items[: pledge.min_items - 1])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: p, True),
        (_longer_reading, True),  # reading times may differ: the enrolled ones count
        (_moved_right_option, False),  # an answer is an option's index
        (_one_question_fewer, False),
        (_swapped_modules, False),
        (_optional_step, False),
        (_fewer_pledge_items, False),
    ],
)
def test_only_a_version_that_matches_step_for_step_is_interchangeable(
    polish: SamplePack, english: SamplePack, change: object, expected: bool
) -> None:
    assert callable(change)
    assert interchangeable(english.programme, change(polish.programme)) is expected


def test_the_library_sample_versions_are_interchangeable(
    english: SamplePack, polish: SamplePack
) -> None:
    assert polish.programme.family == english.programme.id
    assert interchangeable(english.programme, polish.programme)


# -- progress is the enrolment's ----------------------------------------------------------------


def _dwell(step: model.Step) -> int:
    assert isinstance(step, model.ReadingStep)
    return step.min_dwell_seconds


def test_reading_in_polish_is_timed_by_the_enrolled_programme(
    services: KioskServices, english: SamplePack, polish: SamplePack, clock: ManualClock
) -> None:
    install_and_offer(services.store, english, polish)
    who = enrol(services, english, clock, "pl")
    # A reading whose Polish version asks for less time than the English one.
    step_id = next(
        s.id
        for s in polish.programme.all_steps()
        if isinstance(s, model.ReadingStep)
        and s.min_dwell_seconds < _dwell(english.programme.step(s.id))
    )
    work_until(services.store, who, english.programme, step_id=step_id, clock=clock)
    player = open_player(services, who)
    assert (player.programme.id, player.current_step_id) == ("alcohol-and-you-pl", step_id)
    enrolled = english.programme.step(step_id)
    shown = player.current_step
    assert isinstance(enrolled, model.ReadingStep)
    assert isinstance(shown, model.ReadingStep)
    player.view_started()
    clock.advance(shown.min_dwell_seconds + 1)
    assert not player.can_go_next()
    clock.advance(enrolled.min_dwell_seconds - shown.min_dwell_seconds)
    assert player.can_go_next()


def test_progress_and_completion_are_the_enrolments_whichever_version_is_read(
    services: KioskServices, english: SamplePack, polish: SamplePack, clock: ManualClock
) -> None:
    install_and_offer(services.store, english, polish)
    who = enrol(services, english, clock, "pl")
    # Half-way in English (say, on a kiosk without the Polish version)...
    half_way = list(english.programme.all_steps())[8].id
    work_until(services.store, who, english.programme, step_id=half_way, clock=clock)
    # ...and on in Polish from exactly there.
    player = open_player(services, who)
    assert (player.programme.id, player.current_step_id) == ("alcohol-and-you-pl", half_way)
    player.view_started()
    while True:
        enrolled = english.programme.step(player.current_step_id)
        if isinstance(enrolled, model.ReadingStep):  # for as long as the English one asks
            clock.advance(enrolled.min_dwell_seconds + 1)
        else:
            do_step(player, clock)
        if not player.can_go_next():
            break
        player.next()
    completion = player.completion()
    assert completion is not None
    assert completion.programme_title == "Alkohol i ty"
    with services.store.unit() as s:
        enrolment = repos.enrolment(s, who.enrolment_id)
        assert enrolment is not None
        assert enrolment.status == "completed"
    # Home judges the enrolment by the English programme and finds it complete, with the
    # reference the participant was shown.
    home = services.session.home()
    assert [(h.enrolment_id, h.complete) for h in home] == [(who.enrolment_id, True)]
    assert completion.reference == home[0].completion_reference
