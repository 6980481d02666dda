"""End to end: registered offline on kiosk 1, half done there, finished on kiosk 2."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select

from content_packs.progress import StepStatus
from kiosk_app.core.player import ProgrammePlayer
from kiosk_app.store import journal, repos
from kiosk_app.store.models import JournalEvent
from sync_server import models
from tests.support.live_server import LiveServer
from tests.support.world import PROGRAMME_ID, World
from tests.sync.kiosks import Kiosk, do_step

OWN_PIN = "583920"


def _sign_in(kiosk: Kiosk, code: str, pin: str) -> None:
    result = kiosk.session.sign_in(access_code=code, pin=pin)
    assert result.ok, result.message


def _open(kiosk: Kiosk, enrolment_id: str) -> ProgrammePlayer:
    return kiosk.session.open_enrolment(enrolment_id=enrolment_id)


def test_a_participant_starts_on_one_kiosk_and_finishes_on_another(
    server: LiveServer, world: World, make_kiosk: Callable[..., Kiosk]
) -> None:
    first, second = make_kiosk("kiosk-1"), make_kiosk("kiosk-2")
    for kiosk in (first, second):
        assert kiosk.enrol(server.url, world.code("north-custody")).first_sync.ok

    # Kiosk 1, offline: the officer registers and assigns; nothing is sent yet.
    slip = first.officer.register(
        first_name="Sam",
        force_reference="NC/2026/0042",
        programme_id=PROGRAMME_ID,
        disposal_type="conditional_caution",
        due_date=date(2026, 3, 30),
    )
    with world.sessions() as s:
        assert s.get(models.Participant, slip.participant_id) is None
    _sign_in(first, slip.access_code, slip.temporary_pin)
    assert first.session.choose_pin(new_pin=OWN_PIN, confirm=OWN_PIN).accepted
    player = _open(first, slip.enrolment_id)
    order = [s.id for s in player.programme.all_steps()]
    halfway = order[len(order) // 2]
    while player.current_step_id != halfway:
        do_step(player, first.clock)
        player.next()
    first.session.take_a_break()
    assert first.engine.run_once().ok

    # Kiosk 2 learns the participant, their own PIN, and where they got to.
    result = second.engine.run_once()
    assert result.ok, result.error
    assert result.pulled_events > 0
    _sign_in(second, slip.access_code, OWN_PIN)
    player = _open(second, slip.enrolment_id)
    assert player.current_step_id == halfway
    assert all(
        player.step_state(step) is StepStatus.COMPLETE for step in order[: order.index(halfway)]
    )
    while player.completion() is None:
        do_step(player, second.clock)
        if player.completion() is None:
            player.next()
    second.session.take_a_break()
    assert second.engine.run_once().ok

    # The server: complete by its own reckoning, every event of both kiosks exactly once.
    made = first.local_event_ids() | second.local_event_ids()
    with world.sessions() as s:
        enrolment = s.get(models.Enrolment, slip.enrolment_id)
        assert enrolment is not None
        assert (enrolment.status, enrolment.progress_percent) == (
            models.EnrolmentStatus.COMPLETE,
            100,
        )
        stored = list(
            s.scalars(
                select(models.Event.id).where(models.Event.participant_id == slip.participant_id)
            )
        )
    assert len(stored) == len(set(stored))
    assert set(stored) == made
    assert first.unacked() == second.unacked() == 0

    # Kiosk 1 hears of the completion at its next sync.
    assert first.engine.run_once().ok
    with first.store.unit() as s:
        row = repos.enrolment(s, slip.enrolment_id)
        assert row is not None
        assert row.status == "completed"
        events = journal.enrolment_events(s, enrolment_id=slip.enrolment_id)
        assert any(e.type == "programme.completed" and e.origin_device_id for e in events)


def test_pulled_events_are_stored_acknowledged_and_never_pushed_back(
    server: LiveServer, world: World, make_kiosk: Callable[..., Kiosk]
) -> None:
    first, second = make_kiosk("kiosk-1"), make_kiosk("kiosk-2")
    for kiosk in (first, second):
        assert kiosk.enrol(server.url, world.code("north-custody")).first_sync.ok
    slip = first.officer.register(
        first_name="Alex",
        force_reference="NC/2026/0043",
        programme_id=PROGRAMME_ID,
        disposal_type="community_resolution",
        due_date=first.clock.now().date() + timedelta(days=28),
    )
    _sign_in(first, slip.access_code, slip.temporary_pin)
    player = _open(first, slip.enrolment_id)
    do_step(player, first.clock)
    first.session.take_a_break()
    assert first.engine.run_once().ok
    assert second.engine.run_once().ok
    with second.store.unit() as s:
        pulled = s.scalars(
            select(JournalEvent).where(JournalEvent.origin_device_id.is_not(None))
        ).all()
        assert pulled
        assert {e.sync_status for e in pulled} == {"pulled"}
        assert all(e.acked_at is not None for e in pulled)
        assert {e.enrolment_id for e in pulled} == {slip.enrolment_id}
    again = second.engine.run_once()
    assert again.ok
    assert again.pushed == type(again.pushed)()
    # Pulling the same page again (a lost cursor) changes nothing.
    with second.store.unit() as s:
        before = len(journal.enrolment_events(s, enrolment_id=slip.enrolment_id))
        repos.sync_state(s).pull_cursor = ""
    assert second.engine.run_once().ok
    with second.store.unit() as s:
        assert len(journal.enrolment_events(s, enrolment_id=slip.enrolment_id)) == before
