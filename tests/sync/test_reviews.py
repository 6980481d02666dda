"""An officer's verdict on a reflection or letter reaches the participant's kiosks: stored by
the pull, read by the same completion rules as on the server, shown on Home at the next login
(a returned piece with the comment and a way straight back to it; an accepted one as such)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPlainTextEdit
from sqlalchemy import select

from content_packs.progress import ReviewState
from kiosk_app.core.clock import ManualClock
from kiosk_app.core.home import ReviewNote, Verdict
from kiosk_app.core.officer import Credentials
from kiosk_app.store import repos
from kiosk_app.store.models import JournalEvent, ReviewVerdict
from kiosk_app.sync.pull import PullReport, apply_changes
from kiosk_app.sync.wipe import wipe
from kiosk_app.ui.steps.text_entry import TextEntryView
from sync_server import models, protocol
from sync_server.services import admin, reviews
from sync_server.services.effects import Programmes
from sync_server.services.writelock import begin_decision
from tests.support.live_server import LiveServer
from tests.support.world import PROGRAMME_ID, World
from tests.sync.kiosks import Kiosk, do_step
from tests.sync.window_kiosks import OFFSCREEN_NOISE, OpenWindow

OWN_PIN = "583920"
COMMENT = "Please say who was affected, and how."
SUBMITTED = ("reflection.submitted", "letter.submitted")


# -- helpers ------------------------------------------------------------------------------------


def register(kiosk: Kiosk) -> Credentials:
    slip = kiosk.officer.register(
        first_name="Sam",
        force_reference="NC/2026/0200",
        programme_id=PROGRAMME_ID,
        disposal_type="conditional_caution",
        due_date=date(2026, 4, 1),
    )
    assert kiosk.session.sign_in(access_code=slip.access_code, pin=slip.temporary_pin).ok
    kiosk.session.confirm_privacy()
    assert kiosk.session.choose_pin(new_pin=OWN_PIN, confirm=OWN_PIN).accepted
    kiosk.session.take_a_break()
    return slip


def work_through(kiosk: Kiosk, slip: Credentials, step_id: str) -> str:
    """Sign in, do every step up to and including `step_id`, take a break, sync; answers the
    id of the submission made on `step_id`."""
    assert kiosk.session.sign_in(access_code=slip.access_code, pin=OWN_PIN).ok
    player = kiosk.session.open_enrolment(enrolment_id=slip.enrolment_id)
    while player.current_step_id != step_id:
        do_step(player, kiosk.clock)
        player.next()
    do_step(player, kiosk.clock)
    kiosk.session.take_a_break()
    assert kiosk.engine.run_once().ok
    return latest_submission(kiosk, slip.enrolment_id, step_id)


def latest_submission(kiosk: Kiosk, enrolment_id: str, step_id: str) -> str:
    with kiosk.store.unit() as s:
        found = s.scalars(
            select(JournalEvent.id)
            .where(
                JournalEvent.enrolment_id == enrolment_id,
                JournalEvent.step_id == step_id,
                JournalEvent.type.in_(SUBMITTED),
            )
            .order_by(JournalEvent.seq.desc())
        ).first()
    assert found is not None
    return found


def judge(world: World, enrolment_id: str, submission_id: str, verdict: str, comment: str) -> None:
    """An officer's verdict, recorded as the dashboard records it."""
    now = datetime.now(UTC)
    with world.sessions.begin() as s:
        reviewer = s.scalar(
            select(models.StaffUser).where(models.StaffUser.username == "reviewer")
        ) or admin.create_staff(
            s,
            username="reviewer",
            display_name="Rita Reviewer",
            role=models.Role.OFFICER,
            force_id="north",
            password="a long enough password",
            now=now,
        )
    with world.sessions.begin() as s:
        begin_decision(s)
        enrolment = s.get(models.Enrolment, enrolment_id)
        assert enrolment is not None
        reviews.record_verdict(
            s,
            programmes=Programmes(),
            enrolment=enrolment,
            submission_id=submission_id,
            verdict=verdict,
            comment=comment,
            reviewer_id=reviewer.id,
            now=now,
        )


def server_review(world: World, enrolment_id: str, step_id: str) -> reviews.StepReview:
    with world.sessions() as s:
        enrolment = s.get(models.Enrolment, enrolment_id)
        assert enrolment is not None
        found = reviews.step_reviews(s, programmes=Programmes(), enrolments=[enrolment])
        return found[(enrolment_id, step_id)]


def home_notes(kiosk: Kiosk, slip: Credentials) -> tuple[ReviewNote, ...]:
    assert kiosk.session.sign_in(access_code=slip.access_code, pin=OWN_PIN).ok
    try:
        (summary,) = kiosk.session.home()
        return summary.reviews
    finally:
        kiosk.session.take_a_break()


@pytest.fixture
def kiosk(server: LiveServer, world: World, make_kiosk: Callable[..., Kiosk]) -> Kiosk:
    made = make_kiosk()
    assert made.enrol(server.url, world.code("north-custody")).first_sync.ok
    return made


# -- the pull and the rules ---------------------------------------------------------------------


def test_a_returned_reflection_shows_its_comment_and_reads_returned_as_on_the_server(
    kiosk: Kiosk, world: World
) -> None:
    slip = register(kiosk)
    submission = work_through(kiosk, slip, "what-happened")
    assert home_notes(kiosk, slip) == ()  # awaiting review: nothing to say yet

    judge(world, slip.enrolment_id, submission, "returned", COMMENT)
    assert kiosk.engine.run_once().ok
    assert home_notes(kiosk, slip) == (
        ReviewNote("what-happened", "What happened", Verdict.RETURNED, COMMENT),
    )
    assert kiosk.session.sign_in(access_code=slip.access_code, pin=OWN_PIN).ok
    player = kiosk.session.open_enrolment(enrolment_id=slip.enrolment_id)
    on_kiosk = player.progress().step("what-happened").review
    assert on_kiosk is ReviewState.RETURNED
    assert server_review(world, slip.enrolment_id, "what-happened").state is on_kiosk
    # Returned work still counts for moving on (the rules never lock on a verdict).
    assert player.progress().returned_for_changes == ("what-happened",)
    kiosk.session.take_a_break()


def test_rewriting_a_returned_reflection_sends_it_back_for_review(
    kiosk: Kiosk, world: World
) -> None:
    slip = register(kiosk)
    submission = work_through(kiosk, slip, "what-happened")
    judge(world, slip.enrolment_id, submission, "returned", COMMENT)
    assert kiosk.engine.run_once().ok

    kiosk.clock.advance(24 * 3600)  # back the next day
    assert kiosk.session.sign_in(access_code=slip.access_code, pin=OWN_PIN).ok
    player = kiosk.session.open_enrolment(enrolment_id=slip.enrolment_id, step_id="what-happened")
    assert player.current_step_id == "what-happened"
    draft = player.draft()
    assert draft is not None
    assert player.submit_text(draft["text"] + " My mum was upset and so was the shop owner.")
    assert player.progress().step("what-happened").review is ReviewState.AWAITING
    kiosk.session.take_a_break()
    assert home_notes(kiosk, slip) == ()
    assert kiosk.engine.run_once().ok
    standing = server_review(world, slip.enrolment_id, "what-happened")
    assert standing.state is ReviewState.AWAITING
    assert standing.current is not None
    assert standing.current.id == latest_submission(kiosk, slip.enrolment_id, "what-happened")


def test_an_accepted_letter_shows_as_accepted(kiosk: Kiosk, world: World) -> None:
    slip = register(kiosk)
    submission = work_through(kiosk, slip, "letter")
    judge(world, slip.enrolment_id, submission, "accepted", "")
    assert kiosk.engine.run_once().ok
    notes = home_notes(kiosk, slip)
    assert [(n.step_id, n.verdict, n.needs_rewriting) for n in notes] == [
        ("letter", Verdict.ACCEPTED, False)
    ]
    with kiosk.store.unit() as s:
        (stored,) = repos.review_verdicts(s, enrolment_id=slip.enrolment_id)
        assert (stored.submission_id, stored.verdict) == (submission, "accepted")


def test_another_kiosk_of_the_site_learns_the_verdict_and_the_text_to_rewrite(
    kiosk: Kiosk, world: World, server: LiveServer, make_kiosk: Callable[..., Kiosk]
) -> None:
    slip = register(kiosk)
    submission = work_through(kiosk, slip, "what-happened")
    judge(world, slip.enrolment_id, submission, "returned", COMMENT)
    other = make_kiosk("kiosk-2")
    assert other.enrol(server.url, world.code("north-custody")).first_sync.ok
    assert home_notes(other, slip)[0].comment == COMMENT
    assert other.session.sign_in(access_code=slip.access_code, pin=OWN_PIN).ok
    player = other.session.open_enrolment(enrolment_id=slip.enrolment_id, step_id="what-happened")
    with other.store.unit() as s:
        pulled = s.get(JournalEvent, submission)
        assert pulled is not None
    assert player.draft() == {"text": pulled.data["text"]}
    other.session.take_a_break()


# -- what the pull keeps, and what it forgets ---------------------------------------------------


def _review_change(seq: int, **overrides: object) -> protocol.Change:
    verdict = protocol.ReviewVerdict(
        submission_id="3c1d6a52-8f0e-4d59-9b7e-2f6d1c0a7e11",
        participant_id="6f1b9d3a-1c2e-4b5f-8a7d-9e0c1b2a3d4e",
        enrolment_id="9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        step_id="what-happened",
        verdict="returned",
        comment=COMMENT,
        reviewed_at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
    )
    data = verdict.model_copy(update=overrides).model_dump(mode="json")
    return protocol.Change(seq=seq, kind="review", op="upsert", id=verdict.submission_id, data=data)


def _delete(seq: int, kind: str, record_id: str) -> protocol.Change:
    return protocol.Change(seq=seq, kind=kind, op="delete", id=record_id)  # type: ignore[arg-type]


def _verdicts(kiosk: Kiosk) -> list[tuple[str, str, str]]:
    with kiosk.store.unit() as s:
        rows = s.scalars(select(ReviewVerdict)).all()
        return [(r.submission_id, r.verdict, r.comment) for r in rows]


def _apply(kiosk: Kiosk, *changes: protocol.Change) -> PullReport:
    report = PullReport()
    with kiosk.store.unit() as s:
        apply_changes(
            s, list(changes), now=kiosk.clock.now(), report=report, data_dir=kiosk.data_dir
        )
    return report


@pytest.mark.parametrize(
    ("forget", "kind_and_id"),
    [
        ("the verdict left the kiosk's scope", ("review", "3c1d6a52-8f0e-4d59-9b7e-2f6d1c0a7e11")),
        ("the participant did", ("participant", "6f1b9d3a-1c2e-4b5f-8a7d-9e0c1b2a3d4e")),
        ("the enrolment did", ("enrolment", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")),
    ],
)
def test_a_verdict_is_kept_once_and_forgotten_with_what_it_belongs_to(
    make_kiosk: Callable[..., Kiosk], forget: str, kind_and_id: tuple[str, str]
) -> None:
    kiosk = make_kiosk()
    report = _apply(kiosk, _review_change(1), _review_change(2))  # a page pulled twice
    assert report.verdicts == 2
    assert _verdicts(kiosk) == [("3c1d6a52-8f0e-4d59-9b7e-2f6d1c0a7e11", "returned", COMMENT)]
    _apply(kiosk, _delete(3, *kind_and_id))
    assert _verdicts(kiosk) == [], forget


def test_a_revoked_kiosk_forgets_every_verdict(make_kiosk: Callable[..., Kiosk]) -> None:
    kiosk = make_kiosk()
    _apply(kiosk, _review_change(1))
    wipe(kiosk.store)
    assert _verdicts(kiosk) == []


# -- at the kiosk window ------------------------------------------------------------------------


@OFFSCREEN_NOISE
def test_the_participant_sees_the_comment_at_login_and_goes_straight_back_to_rewrite(
    kiosk: Kiosk, world: World, server: LiveServer, open_window: OpenWindow
) -> None:
    slip = register(kiosk)
    submission = work_through(kiosk, slip, "what-happened")
    judge(world, slip.enrolment_id, submission, "returned", COMMENT)

    window = open_window(
        "window",
        enrol_at=(server.url, world.code("north-custody")),
        clock=ManualClock(kiosk.clock.now() + timedelta(days=1)),  # back the next day
    )
    person = window.participant()
    person.sign_in(slip.access_code, OWN_PIN)
    person.wait_for_screen("privacy")  # a kiosk new to them
    person.tap("I understand")
    person.wait_for_screen("home")
    home = window.ui.screens.home
    said = f"Your officer asked you to look again at What happened: {COMMENT}"
    assert said in home.visible_texts()

    person.tap("look again at What happened")
    person.wait_for_screen("step")
    player = window.ui.presenter.player.player
    assert player is not None
    assert player.current_step_id == "what-happened"
    view = window.ui.presenter.player.view()
    assert isinstance(view, TextEntryView)
    assert view.text().startswith("In my own words")  # what they wrote before, to rewrite
    editor = view.findChild(QPlainTextEdit)
    assert editor is not None
    editor.setFocus()
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    QTest.keyClicks(editor, " My mum was upset.")
    person.tap("submit", view)
    person.tap("take a break")
    person.wait_for_screen("welcome")
    assert window.wait_for_sync().ok  # signing out sends the new version

    standing = server_review(world, slip.enrolment_id, "what-happened")
    assert standing.state is ReviewState.AWAITING
    assert standing.current is not None
    assert standing.current.text.endswith("My mum was upset.")
    person.sign_in(slip.access_code, OWN_PIN)
    person.wait_for_screen("home")
    assert not any("look again" in t for t in home.visible_texts())
    person.tap("take a break")
    person.wait_for_screen("welcome")
