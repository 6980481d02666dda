"""The programme player over the real sample pack: a whole walk, retries, resume, Home."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import event, select

from content_packs import age, authoring, model, pack, signing
from content_packs.progress import StepStatus, progress
from kiosk_app.core.auth import LoginService
from kiosk_app.core.clock import ManualClock
from kiosk_app.core.home import HomeService, completion_reference, due_in_words
from kiosk_app.core.library import PackLibrary
from kiosk_app.core.player import PlayerError, ProgrammePlayer
from kiosk_app.core.session import KioskSession, LogoutReason
from kiosk_app.store import journal, keys, repos
from kiosk_app.store.db import Store, open_store
from kiosk_app.store.models import Enrolment, JournalEvent
from tests.kiosk.test_auth import CODE, GIVEN_PIN, HASHER
from tests.support.kiosk import do_step

SAMPLE = Path(__file__).resolve().parents[2] / "content_packs" / "library" / "alcohol-and-you"
PARTICIPANT = "0b7d6c5e-1111-4000-8000-000000000001"
ENROLMENT = "0b7d6c5e-2222-4000-8000-000000000002"


@dataclass(frozen=True)
class BuiltPack:
    path: Path
    signature: str
    publisher: signing.PublicKey
    identity: age.X25519Identity


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltPack:
    identity = age.X25519Identity.generate()
    publisher = signing.SecretKey.generate()
    out = tmp_path_factory.mktemp("pack") / "alcohol-and-you-1.pack"
    result = pack.build(
        authoring.load_source(SAMPLE), out, sign_key=publisher, recipients=[identity.recipient]
    )
    return BuiltPack(out, result.signature_path.read_text("utf-8"), publisher.public_key, identity)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(tmp_path: Path, built: BuiltPack, clock: ManualClock) -> Iterator[Store]:
    data = tmp_path / "kiosk"
    with open_store(data, key_store=keys.FileKeyStore(data / "db.key")) as opened:
        (data / "packs").mkdir()
        shutil.copyfile(built.path, data / "packs" / built.path.name)
        with opened.unit() as s:
            device = repos.device(s)
            device.x25519_identity = built.identity.to_str()
            device.publisher_keys = [built.publisher.to_base64()]
            repos.install_pack(
                s,
                pack_id="alcohol-and-you",
                version=1,
                path=f"packs/{built.path.name}",
                signature=built.signature,
                sha256="0" * 64,
                installed_at=clock.now(),
            )
            repos.add_participant(
                s,
                participant_id=PARTICIPANT,
                first_name="Sam",
                access_code=CODE,
                pin_hash=HASHER.hash(GIVEN_PIN),
            )
            repos.add_enrolment(
                s,
                enrolment_id=ENROLMENT,
                participant_id=PARTICIPANT,
                programme_id="alcohol-and-you",
                programme_version=1,
                disposal_type="community_resolution",
                due_date=date(2026, 3, 14),
            )
        yield opened


@pytest.fixture
def library(store: Store) -> Iterator[PackLibrary]:
    lib = PackLibrary(store=store)
    yield lib
    lib.close()


@pytest.fixture
def programme(library: PackLibrary) -> model.Programme:
    return library.programme(pack_id="alcohol-and-you", version=1)


def _player(store: Store, clock: ManualClock, programme: model.Programme) -> ProgrammePlayer:
    return ProgrammePlayer(
        store=store,
        clock=clock,
        programme=programme,
        participant_id=PARTICIPANT,
        enrolment_id=ENROLMENT,
    )


@pytest.fixture
def player(store: Store, clock: ManualClock, programme: model.Programme) -> ProgrammePlayer:
    return _player(store, clock, programme)


def finish_current(player: ProgrammePlayer, clock: ManualClock) -> None:
    """Do what a diligent participant does on the current step (tests/support/journeys)."""
    do_step(player, clock)


def walk_to(player: ProgrammePlayer, clock: ManualClock, step_id: str) -> None:
    player.view_started()
    while player.current_step_id != step_id:
        finish_current(player, clock)
        player.next()


def _journal(store: Store) -> list[JournalEvent]:
    with store.unit() as s:
        return list(s.scalars(select(JournalEvent).order_by(JournalEvent.seq)))


def test_walking_the_whole_programme_completes_it(
    player: ProgrammePlayer, store: Store, clock: ManualClock, programme: model.Programme
) -> None:
    player.view_started()
    while True:
        finish_current(player, clock)
        if not player.can_go_next():
            break
        player.next()
    player.close()
    assert player.current_step_id == "finish"
    events = [journal.rule_event(r) for r in _journal(store)]
    assert progress(programme, events).complete
    assert player.progress().complete
    completion = player.completion()
    assert completion is not None
    assert re.fullmatch(r"ALC-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", completion.reference)
    assert [e.type for e in _journal(store)].count("programme.completed") == 1
    with store.unit() as s:
        enrolment = s.get(Enrolment, ENROLMENT)
        assert enrolment is not None
        assert enrolment.status == "completed"


def test_next_waits_for_the_reading_dwell(player: ProgrammePlayer, clock: ManualClock) -> None:
    player.view_started()
    assert player.current_step_id == "welcome"
    assert not player.can_go_next()
    with pytest.raises(PlayerError):
        player.next()
    clock.advance(30)
    assert player.can_go_next()  # counts the view still on screen
    assert player.next() == "listen-welcome"
    assert player.step_state("welcome") is StepStatus.COMPLETE


def test_failed_answers_can_be_tried_again(player: ProgrammePlayer, clock: ManualClock) -> None:
    walk_to(player, clock, "units-quiz")
    step = player.current_step
    assert isinstance(step, model.QuizStep)
    wrong = {
        q.id: next(i for i, o in enumerate(q.options) if not o.correct) for q in step.questions
    }
    first = player.answer_quiz(wrong)
    assert (first.passed, first.score, first.attempt, first.attempts_left) == (False, 0, 1, None)
    assert all(not q.correct and q.feedback for q in first.questions)
    assert not player.can_go_next()
    right = {q.id: next(i for i, o in enumerate(q.options) if o.correct) for q in step.questions}
    second = player.answer_quiz(right)
    assert (second.passed, second.score, second.total, second.attempt) == (True, 4, 4, 2)
    assert player.can_go_next()


def test_a_too_short_reflection_is_refused_with_the_words_needed(
    player: ProgrammePlayer, store: Store, clock: ManualClock
) -> None:
    walk_to(player, clock, "good-and-not-so-good")
    before = len(_journal(store))
    result = player.submit_text("It was fun at first.")
    assert not result.accepted
    assert (result.words, result.words_needed) == (5, 15)
    assert "15 more words" in result.message
    assert len(_journal(store)) == before
    assert not player.can_go_next()


def test_drafts_autosave_without_events(player: ProgrammePlayer, store: Store) -> None:
    before = len(_journal(store))
    player.save_draft({"text": "half a tho"})
    player.save_draft({"text": "half a thought"})
    assert player.draft() == {"text": "half a thought"}
    assert len(_journal(store)) == before


def test_drafts_are_kept_per_step_and_read_back_by_the_next_player(
    player: ProgrammePlayer,
    store: Store,
    clock: ManualClock,
    programme: model.Programme,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    walk_to(player, clock, "units-quiz")
    player.save_draft({"answers": {"pint-of-lager": 1}})
    shown = player.draft()
    assert shown == {"answers": {"pint-of-lager": 1}}
    shown["answers"]["pint-of-lager"] = 2  # a caller's copy: the saved draft stays as it was
    assert player.draft() == {"answers": {"pint-of-lager": 1}}

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(repos, "save_draft", disk_full)
        with pytest.raises(OSError, match="disk full"):
            player.save_draft({"answers": {"pint-of-lager": 0}})
    assert player.draft() == {"answers": {"pint-of-lager": 1}}  # nothing was saved
    player.close()
    again = _player(store, clock, programme)
    assert again.current_step_id == "units-quiz"
    assert again.draft() == {"answers": {"pint-of-lager": 1}}
    quiz = programme.step("units-quiz")
    assert isinstance(quiz, model.QuizStep)
    again.answer_quiz({q.id: 0 for q in quiz.questions})
    assert again.draft() is None  # the attempt used the choices: the next starts afresh
    with store.unit() as s:
        saved = repos.drafts(
            s, participant_id=again.participant_id, enrolment_id=again.enrolment_id
        )
    assert "units-quiz" not in saved


def test_a_new_player_resumes_where_the_last_one_stopped(
    player: ProgrammePlayer, store: Store, clock: ManualClock, programme: model.Programme
) -> None:
    walk_to(player, clock, "units-video")
    player.close()
    again = _player(store, clock, programme)
    assert again.current_step_id == "units-video"
    assert again.step_state("what-is-a-unit") is StepStatus.COMPLETE


def test_without_a_resume_pointer_the_first_unfinished_step_is_current(
    store: Store, clock: ManualClock, programme: model.Programme
) -> None:
    assert _player(store, clock, programme).current_step_id == "welcome"


def test_the_view_event_and_the_resume_pointer_commit_together(
    player: ProgrammePlayer, store: Store, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    player.view_started()
    clock.advance(31)

    def power_cut(*args: object, **kwargs: object) -> None:
        raise OSError("power cut between the event and the resume pointer")

    monkeypatch.setattr(repos, "set_resume_step", power_cut)
    with pytest.raises(OSError, match="power cut"):
        player.next()
    assert _journal(store) == []
    assert player.current_step_id == "welcome"
    monkeypatch.undo()
    assert player.next() == "listen-welcome"  # the view went on, and still counts
    viewed = _journal(store)[0]
    assert (viewed.type, viewed.step_id, viewed.data) == (
        "step.viewed",
        "welcome",
        {"dwell_ms": 31_000},
    )


def test_a_step_change_writes_only_the_view_and_the_resume_pointer(
    player: ProgrammePlayer, store: Store, clock: ManualClock
) -> None:
    """Next is on the participant's wait: the first move also puts the enrolment in progress;
    after that a move is the journal's seq, the view event and the resume pointer."""
    statements: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(" ".join(statement.split()[:3]))

    player.view_started()
    event.listen(store.engine, "before_cursor_execute", note)
    try:
        moves = []
        for _ in range(3):
            clock.advance(31)
            statements.clear()
            player.next()
            moves.append(list(statements))
            player.back()
    finally:
        event.remove(store.engine, "before_cursor_execute", note)
    one_move = [
        "BEGIN IMMEDIATE",
        "UPDATE counters SET",
        "INSERT INTO journal",
        "INSERT INTO resume_pointers",
    ]
    assert "UPDATE enrolments SET" in moves[0]  # the kiosk's first event also made the seq
    assert moves[1] == moves[2] == one_move
    with store.unit() as s:
        enrolment = s.get(Enrolment, ENROLMENT)
        assert enrolment is not None
        assert enrolment.status == "in_progress"


def test_back_returns_to_the_previous_step(player: ProgrammePlayer, clock: ManualClock) -> None:
    walk_to(player, clock, "listen-welcome")
    assert player.can_go_back()
    assert player.back() == "welcome"
    assert not player.can_go_back()
    assert player.position == (1, 21)


def test_actions_for_another_step_type_are_refused(player: ProgrammePlayer) -> None:
    with pytest.raises(PlayerError, match="reading"):
        player.answer_quiz({})


@pytest.mark.parametrize(
    ("due", "text"),
    [
        (date(2026, 3, 14), "12 days left"),
        (date(2026, 3, 3), "1 day left"),
        (date(2026, 3, 2), "due today"),
        (date(2026, 3, 1), "1 day overdue"),
        (date(2026, 2, 27), "3 days overdue"),
    ],
)
def test_due_date_in_words(due: date, text: str) -> None:
    assert due_in_words(due, today=date(2026, 3, 2)) == text


def test_completion_reference_is_stable_and_depends_on_both_ids() -> None:
    a = completion_reference(
        programme_id="alcohol-and-you", enrolment_id="e1", completion_event_id="x"
    )
    assert a == completion_reference(
        programme_id="alcohol-and-you", enrolment_id="e1", completion_event_id="x"
    )
    assert a.startswith("ALC-")
    assert a != completion_reference(
        programme_id="alcohol-and-you", enrolment_id="e2", completion_event_id="x"
    )


def test_home_shows_progress_per_module_and_the_due_date(
    store: Store, clock: ManualClock, library: PackLibrary, player: ProgrammePlayer
) -> None:
    walk_to(player, clock, "what-is-a-unit")
    player.close()
    (summary,) = HomeService(store=store, clock=clock, library=library).enrolments(
        participant_id=PARTICIPANT
    )
    assert summary.title == "Alcohol and you"
    assert summary.available
    assert [m.percent for m in summary.modules] == [100, 0, 0, 0]
    assert summary.percent == 20  # 4 of 20 required steps, floored
    assert summary.due_text == "12 days left"
    assert summary.completion_reference is None


def test_take_a_break_journals_the_dwell_and_forgets_the_participant(
    store: Store, clock: ManualClock, library: PackLibrary
) -> None:
    session = KioskSession(
        store=store,
        clock=clock,
        login=LoginService(store=store, clock=clock, hasher=HASHER),
        library=library,
    )
    assert session.sign_in(access_code=CODE, pin=GIVEN_PIN).ok
    who = session.signed_in
    assert who is not None
    assert who.first_name == "Sam"
    (summary,) = session.home()
    player = session.open_enrolment(enrolment_id=summary.enrolment_id)
    player.view_started()
    clock.advance(12)
    session.take_a_break()
    assert session.signed_in is None
    assert session.player is None
    types = [(e.type, e.data) for e in _journal(store)]
    assert types == [
        ("session.started", {}),
        ("step.viewed", {"dwell_ms": 12_000}),
        ("session.ended", {"reason": LogoutReason.BREAK.value}),
    ]


def test_a_participant_cannot_open_someone_elses_enrolment(
    store: Store, clock: ManualClock, library: PackLibrary
) -> None:
    session = KioskSession(
        store=store,
        clock=clock,
        login=LoginService(store=store, clock=clock, hasher=HASHER),
        library=library,
    )
    assert session.sign_in(access_code=CODE, pin=GIVEN_PIN).ok
    with pytest.raises(LookupError):
        session.open_enrolment(enrolment_id=str(uuid.uuid4()))
