"""A kiosk set up as an officer would: sample pack installed, participants registered, enrolled.

Registration journals `participant.registered` and `enrolment.assigned` with the rows, in
one unit of work, as the officer console does (issue 5), so a later sync has them to push.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

from argon2 import PasswordHasher
from pydantic import JsonValue

from content_packs import age, authoring, model, pack, signing
from kiosk_app.core.clock import Clock, ManualClock
from kiosk_app.core.player import ProgrammePlayer
from kiosk_app.store import journal, keys, repos
from kiosk_app.store.db import Store, open_store
from kiosk_app.store.models import Officer
from tests.support.journeys import finishing_events

SAMPLE = Path(__file__).resolve().parents[2] / "content_packs" / "library" / "alcohol-and-you"
# Cheap argon2 parameters: tests hash many PINs. The hash records them, so the kiosk's own
# verifier checks these PINs correctly; PINs the kiosk hashes use its own (default) cost.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
TEMPORARY_PIN = "246810"
# A time the tests' manual clocks share, so due dates read the same in every test.
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class SamplePack:
    path: Path
    signature: str
    publisher: signing.PublicKey
    identity: age.X25519Identity
    programme: model.Programme


@dataclass(frozen=True)
class Seeded:
    """A participant as the officer handed them over: access code and temporary PIN."""

    participant_id: str
    enrolment_id: str
    access_code: str
    pin: str


def build_sample_pack(out_dir: Path, source: Path = SAMPLE) -> SamplePack:
    """The sample programme built for a fresh device identity, signed by a fresh publisher."""
    identity = age.X25519Identity.generate()
    publisher = signing.SecretKey.generate()
    loaded = authoring.load_source(source)
    programme = loaded.programme
    out = out_dir / f"{programme.id}-{programme.version}.pack"
    result = pack.build(loaded, out, sign_key=publisher, recipients=[identity.recipient])
    return SamplePack(
        path=out,
        signature=result.signature_path.read_text("utf-8"),
        publisher=publisher.public_key,
        identity=identity,
        programme=programme,
    )


def open_test_store(data_dir: Path) -> Store:
    """The kiosk store with its key in a file under the data folder (never the OS keyring)."""
    return open_store(data_dir, key_store=keys.FileKeyStore(data_dir / keys.KEY_FILE_NAME))


def install_sample(store: Store, built: SamplePack, *, at: datetime = START) -> None:
    """Give the device the pack's identity and publisher key, and install the pack file."""
    packs = store.data_dir / "packs"
    packs.mkdir(exist_ok=True)
    shutil.copyfile(built.path, packs / built.path.name)
    programme = built.programme
    with store.unit() as s:
        device = repos.device(s)
        device.x25519_identity = built.identity.to_str()
        device.publisher_keys = [built.publisher.to_base64()]
        repos.install_pack(
            s,
            pack_id=programme.id,
            version=programme.version,
            path=f"packs/{built.path.name}",
            signature=built.signature,
            sha256="0" * 64,
            installed_at=at,
        )


def register(
    store: Store,
    *,
    programme: model.Programme,
    access_code: str,
    pin: str = TEMPORARY_PIN,
    first_name: str = "Sam",
    due: date = date(2026, 3, 14),
    clock: ManualClock | None = None,
    hasher: PasswordHasher = FAST_HASHER,
) -> Seeded:
    """Register a participant with a temporary PIN and assign them `programme`."""
    clock = clock or ManualClock(START)
    participant_id, enrolment_id = str(uuid.uuid4()), str(uuid.uuid4())
    pin_hash = hasher.hash(pin)
    registration: dict[str, JsonValue] = {
        "first_name": first_name,
        "force_reference": "TEST/0001",
        "access_code": access_code,
        "pin_hash": pin_hash,
        "language": "en",
        "accessibility": {},
    }
    assignment: dict[str, JsonValue] = {
        "programme_id": programme.id,
        "disposal_type": "community_resolution",
        "conditions": "",
        "due_date": due.isoformat(),
    }
    with store.unit() as s:
        repos.add_participant(
            s,
            participant_id=participant_id,
            first_name=first_name,
            access_code=access_code,
            pin_hash=pin_hash,
        )
        journal.record(
            s,
            event_type="participant.registered",
            participant_id=participant_id,
            data=registration,
            clock=clock,
        )
        repos.add_enrolment(
            s,
            enrolment_id=enrolment_id,
            participant_id=participant_id,
            programme_id=programme.id,
            programme_version=programme.version,
            disposal_type="community_resolution",
            due_date=due,
        )
        journal.record(
            s,
            event_type="enrolment.assigned",
            participant_id=participant_id,
            enrolment_id=enrolment_id,
            data=assignment,
            clock=clock,
        )
    return Seeded(participant_id, enrolment_id, access_code, pin)


def settle_first_login(store: Store, who: Seeded, *, own_pin: str, clock: Clock) -> Seeded:
    """As if the participant had already confirmed the privacy notice and chosen `own_pin`."""
    with store.unit() as s:
        person = repos.participant(s, who.participant_id)
        assert person is not None
        person.privacy_confirmed_at = clock.now()
        person.pin_hash = FAST_HASHER.hash(own_pin)
        person.pin_must_change = False
    return Seeded(who.participant_id, who.enrolment_id, who.access_code, own_pin)


class Advancing(Protocol):
    """A clock the test can move on (ManualClock, or real time plus skipped time)."""

    def advance(self, seconds: float) -> None: ...


def do_step(player: ProgrammePlayer, clock: Advancing) -> None:
    """What a diligent participant does on the current step (tests/support/journeys)."""
    step = player.current_step
    for _kind, data in finishing_events(step):
        if isinstance(step, model.ReadingStep):
            clock.advance(data["dwell_ms"] / 1000)
        elif isinstance(step, model.AudioStep | model.VideoStep):
            player.media_played(fraction=data["fraction"])
        elif isinstance(step, model.QuizStep):
            assert player.answer_quiz(data["answers"]).passed
        elif isinstance(step, model.ReflectionStep | model.LetterStep):
            assert player.submit_text(data["text"]).accepted
        elif isinstance(step, model.PledgeStep):
            assert player.save_pledge(data["items"]).accepted
        else:
            player.confirm_checkpoint()


def work_until(
    store: Store,
    who: Seeded,
    programme: model.Programme,
    *,
    step_id: str,
    clock: ManualClock,
    back_to: str | None = None,
) -> None:
    """Do every step before `step_id` (real player, manual clock); stop there or at `back_to`.

    The resume pointer ends on the step it stops at, so the kiosk opens there.
    """
    player = ProgrammePlayer(
        store=store,
        clock=clock,
        programme=programme,
        participant_id=who.participant_id,
        enrolment_id=who.enrolment_id,
    )
    player.view_started()
    order = [s.id for s in programme.all_steps()]
    while order.index(player.current_step_id) < order.index(step_id):
        do_step(player, clock)
        player.next()
    while back_to is not None and player.current_step_id != back_to:
        player.back()
    clock.advance(1)
    player.close()


OFFICER_PASSWORD = "correct horse battery"


def seed_officer(store: Store, *, username: str = "olive", role: str = "officer") -> None:
    """A member of staff as the pull stores one, with password `OFFICER_PASSWORD`."""
    with store.unit() as s:
        s.add(
            Officer(
                username=username,
                display_name=username.title(),
                role=role,
                password_hash=FAST_HASHER.hash(OFFICER_PASSWORD),
                failed_attempts=0,
            )
        )
