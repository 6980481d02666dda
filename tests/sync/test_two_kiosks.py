"""End to end at two kiosk windows: registered offline on kiosk 1, half the programme done
there, finished on kiosk 2, complete on the server by its own reckoning.

The kiosks are `KioskUi` as `kiosk-app` builds it, each over its own data folder, enrolled
against the real server (uvicorn on loopback, SQLite). Kiosk 1 reaches it through a proxy
that can cut it off. Officers and the participant act only through the windows: keypads,
buttons, the officer console; syncs happen as they would (sign-out, Sync now). The
core-services version of this journey is tests/sync/test_journey.py.
"""

from __future__ import annotations

from datetime import timedelta

from pytestqt.qtbot import QtBot
from sqlalchemy import select

from content_packs.model import Event as RuleEvent
from content_packs.progress import progress
from kiosk_app.core.clock import ManualClock
from kiosk_app.store import repos
from kiosk_app.store.models import JournalEvent
from kiosk_app.sync.engine import Outcome
from sync_server import models
from tests.support.kiosk import OFFICER_PASSWORD, START, Seeded
from tests.support.live_server import LiveServer
from tests.support.walk import HEADLESS_MEDIA, Walk, current
from tests.support.world import World
from tests.sync.faults import Fault, FaultProxy
from tests.sync.window_kiosks import OpenWindow, WindowKiosk

OWN_PIN = "583920"


def local_event_ids(kiosk: WindowKiosk) -> set[str]:
    with kiosk.services.store.unit() as s:
        return set(
            s.scalars(select(JournalEvent.id).where(JournalEvent.origin_device_id.is_(None)))
        )


def step_up_to(kiosk: WindowKiosk, away: WindowKiosk) -> None:
    """Stand at `kiosk`: two kiosks are two machines, so only one window shows at a time (and
    only its Ctrl+Alt+O opens a console)."""
    away.ui.window.hide()
    window = kiosk.ui.window
    window.show()
    window.activateWindow()
    kiosk.qtbot.waitUntil(window.isActiveWindow)


def unacked(kiosk: WindowKiosk) -> int:
    with kiosk.services.store.unit() as s:
        return len(s.scalars(select(JournalEvent.id).where(JournalEvent.acked_at.is_(None))).all())


def sync_now(kiosk: WindowKiosk) -> str:
    """An officer opens the console, presses Sync now, reads the result and locks it again."""
    officer = kiosk.officer()
    officer.press_open_keys()
    officer.sign_in("olive", OFFICER_PASSWORD)
    officer.settle()
    officer.tap("Sync now")
    officer.settle(timeout=60_000)
    said = officer.console.screens.console.message()
    officer.tap("Lock")
    officer.settle()
    return said


def register_offline(kiosk: WindowKiosk) -> tuple[str, str]:
    """The officer registers Sam at the console; answers the slip's access code and PIN."""
    officer = kiosk.officer()
    officer.press_open_keys()
    officer.sign_in("olive", OFFICER_PASSWORD)
    officer.settle()
    officer.tap("Register a participant")
    officer.settle()
    officer.type_into("First name", "Sam")
    officer.type_into("Force reference", "NC/2026/0042")
    officer.tap("Register")
    officer.settle()
    assert officer.window.current_screen() == "slip"
    slip = officer.console.screens.slip.slip()
    officer.tap("Done")
    officer.settle()
    officer.tap("Lock")
    officer.settle()
    return slip["Access code"], slip["Temporary PIN"]


def seeded(kiosk: WindowKiosk, access_code: str) -> Seeded:
    with kiosk.services.store.unit() as s:
        person = repos.participant_by_code(s, access_code)
        assert person is not None
        (enrolment,) = repos.enrolments_of(s, person.id)
        return Seeded(person.id, enrolment.id, access_code, OWN_PIN)


@HEADLESS_MEDIA
def test_a_participant_starts_offline_at_one_kiosk_and_finishes_at_another(
    qtbot: QtBot,
    server: LiveServer,
    world: World,
    open_window: OpenWindow,
    null_audio_sink: str,
) -> None:
    world.add_staff("olive", password=OFFICER_PASSWORD)
    with FaultProxy(server.port) as network:
        first = open_window("kiosk-1", enrol_at=(network.url, world.code("north-custody")))
        # Kiosk 2 is used the next day (its own clock; the server trusts neither).
        second = open_window(
            "kiosk-2",
            enrol_at=(server.url, world.code("north-custody")),
            clock=ManualClock(START + timedelta(days=1)),
        )

        # Kiosk 1 loses the server: registration and the first half happen offline.
        network.plan = lambda n: Fault(reset_request_after=0)
        step_up_to(first, away=second)
        code, temporary_pin = register_offline(first)
        who = seeded(first, code)
        with world.sessions() as s:
            assert s.get(models.Participant, who.participant_id) is None

        person = first.participant()
        person.sign_in(code, temporary_pin)
        person.wait_for_screen("privacy")
        person.tap("I understand")
        person.wait_for_screen("choose-pin")
        person.choose_pin(OWN_PIN)
        person.wait_for_screen("home")
        person.tap("Continue")
        person.wait_for_screen("step")
        kiosk = first.under_test()
        order = [s.id for s in world.programme.all_steps()]
        halfway = order[len(order) // 2]
        walk = Walk(qtbot, kiosk, person, who, own_pin=OWN_PIN)
        while current(kiosk).current_step_id != halfway:
            walk.do(current(kiosk).current_step)
            person.tap("next")
        person.tap("take a break")
        person.wait_for_screen("welcome")
        # Signing out asked for a sync each time; none could reach the server, and the
        # backoff they left is kept in the store.
        assert first.wait_for_sync().outcome in (Outcome.FAILED, Outcome.WAITING)
        assert first.synced
        assert not any(r.ok for r in first.synced)
        with first.services.store.unit() as s:
            assert repos.sync_state(s).next_attempt_at is not None
        with world.sessions() as s:
            assert s.get(models.Participant, who.participant_id) is None

        # Back online: the officer's Sync now does not wait for the backoff.
        network.plan = lambda n: Fault()
        assert sync_now(first) == "Sync finished."
        assert unacked(first) == 0

        # Kiosk 2 learns the participant, their own PIN and where they got to.
        step_up_to(second, away=first)
        assert sync_now(second) == "Sync finished."
        person = second.participant()
        person.sign_in(code, OWN_PIN)
        person.wait_for_screen("privacy")  # a kiosk new to them
        person.tap("I understand")
        person.wait_for_screen("home")
        person.tap("Continue")
        person.wait_for_screen("step")
        kiosk = second.under_test()
        assert current(kiosk).current_step_id == halfway
        walk = Walk(qtbot, kiosk, person, who, own_pin=OWN_PIN)
        while kiosk.window.current_screen() != "completion":
            walk.do(current(kiosk).current_step)
            person.tap("next")
        person.tap("Finish")
        person.wait_for_screen("welcome")
        assert second.wait_for_sync().ok
        assert unacked(second) == 0

    # The server: complete by its own reckoning, every event of both kiosks exactly once.
    made = local_event_ids(first) | local_event_ids(second)
    with world.sessions() as s:
        enrolment = s.get(models.Enrolment, who.enrolment_id)
        assert enrolment is not None
        assert (enrolment.status, enrolment.progress_percent) == (
            models.EnrolmentStatus.COMPLETE,
            100,
        )
        stored = list(
            s.scalars(select(models.Event).where(models.Event.participant_id == who.participant_id))
        )
        ids = [e.id for e in stored]
        assert len(ids) == len(set(ids))
        assert set(ids) == made
        # What the server stored is its own computation from those events and the manifest.
        recomputed = progress(
            world.programme,
            [
                RuleEvent(
                    id=e.id, type=e.type, step_id=e.step_id, occurred_at=e.occurred_at, data=e.data
                )
                for e in stored
                if e.enrolment_id == who.enrolment_id
            ],
        )
        assert recomputed.complete
        assert enrolment.completed_at == recomputed.completed_at
    devices = {e.device_id for e in stored}
    assert len(devices) == 2, "both kiosks' work reached the server"
