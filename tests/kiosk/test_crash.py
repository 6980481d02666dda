"""SIGKILL at random points while a participant answers: nothing acknowledged is ever lost.

The participant is this module run as a script (`python -m tests.kiosk.test_crash DATA_DIR`):
the kiosk's own services (KioskSession, ProgrammePlayer) on the real SQLCipher store, going
round the programme and printing an acknowledgement after each answer has committed. The
test kills it with SIGKILL after a random number of acknowledgements, restarts it on the
same data folder, and finally checks every acknowledged answer is in the journal and the
database passes `PRAGMA integrity_check`.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from content_packs import model
from kiosk_app.app import open_kiosk
from kiosk_app.core.player import PlayerError, ProgrammePlayer
from kiosk_app.store import keys
from kiosk_app.store.models import JournalEvent
from tests.support.kiosk import (
    FAST_HASHER,
    SamplePack,
    build_sample_pack,
    do_step,
    install_sample,
    open_test_store,
    register,
    settle_first_login,
)

REPO = Path(__file__).resolve().parents[2]
CODE = "ABC-00001"
PIN = "482916"
ROUNDS = 6
READY = "READY"


class SkippingClock:
    """Real time, plus the reading time a scripted participant skips (it never goes back)."""

    def __init__(self) -> None:
        self._skipped = 0.0

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self._skipped)

    def monotonic_ms(self) -> int:
        return time.monotonic_ns() // 1_000_000 + round(self._skipped * 1000)

    def advance(self, seconds: float) -> None:
        self._skipped += seconds


# -- the scripted participant (child process) ---------------------------------------------------


def answer(player: ProgrammePlayer, clock: SkippingClock) -> str | None:
    """Answer the current step once; the acknowledgement to print once it has committed."""
    step = player.current_step
    token = f"tok{uuid.uuid4().hex}"
    if isinstance(step, model.QuizStep):
        right = {
            q.id: next(i for i, o in enumerate(q.options) if o.correct) for q in step.questions
        }
        try:
            feedback = player.answer_quiz(right)
        except PlayerError:
            return None  # no attempts left on this quiz
        return f"quiz {step.id} {feedback.attempt}"
    if isinstance(step, model.ReflectionStep | model.LetterStep):
        words = " ".join(f"word{i}" for i in range(step.min_words))
        player.save_draft({"text": token})
        assert player.submit_text(f"{token} {words}").accepted
        return f"text {step.id} {token}"
    if isinstance(step, model.PledgeStep):
        items = [token, *step.items[: step.min_items]]
        assert player.save_pledge(items).accepted
        return f"pledge {step.id} {token}"
    do_step(player, clock)
    return None


def acknowledge(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def participant(data_dir: Path) -> None:
    clock = SkippingClock()
    services = open_kiosk(
        data_dir,
        key_store=keys.FileKeyStore(data_dir / keys.KEY_FILE_NAME),
        clock=clock,
        hasher=FAST_HASHER,
    )
    session = services.session
    assert session.sign_in(access_code=CODE, pin=PIN).ok
    (enrolment,) = session.home()
    player = session.open_enrolment(enrolment_id=enrolment.enrolment_id)
    player.view_started()
    acknowledge(READY)
    while True:
        ack = answer(player, clock)
        if ack is not None:
            acknowledge(ack)
        if player.can_go_next():
            player.next()
        else:
            while player.can_go_back():  # round again: more answers to lose, if we could
                player.back()


# -- the test -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SamplePack:
    return build_sample_pack(tmp_path_factory.mktemp("pack"))


@pytest.fixture
def data_dir(tmp_path: Path, sample: SamplePack) -> Path:
    data = tmp_path / "kiosk"
    with open_test_store(data) as store:
        install_sample(store, sample)
        who = register(store, programme=sample.programme, access_code=CODE)
        settle_first_login(store, who, own_pin=PIN, clock=SkippingClock())
    return data


def run_until_killed(data_dir: Path, acks_wanted: int) -> list[str]:
    """Start the participant, SIGKILL it after `acks_wanted` acknowledgements; all it printed."""
    lines: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-m", "tests.kiosk.test_crash", str(data_dir)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        try:
            for line in child.stdout:
                lines.append(line.strip())
                if len(lines) > acks_wanted:  # the first line is READY
                    child.send_signal(signal.SIGKILL)
                    break
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
            # Whatever it printed before it died: read to EOF, through the reader's buffer.
            rest = child.stdout.read()
            errors = child.stderr.read()
    lines += rest.splitlines()
    assert child.returncode == -signal.SIGKILL, f"the participant died by itself:\n{errors}"
    assert lines[:1] == [READY], errors
    return [line for line in lines[1:] if line]


def test_no_acknowledged_answer_is_lost_to_sigkill(data_dir: Path) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    acks: list[str] = []
    for _ in range(ROUNDS):
        acks += run_until_killed(data_dir, rng.randint(0, 8))
    assert len(acks) >= ROUNDS, f"seed {seed}: too few answers to prove anything"

    with open_test_store(data_dir) as store:
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        with store.unit() as s:
            events = list(s.scalars(select(JournalEvent).order_by(JournalEvent.seq)))
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), "gaps in the journal"
    recorded = set()
    for event in events:
        if event.type == "quiz.answered":
            recorded.add(f"quiz {event.step_id} {event.data['attempt']}")
        for word in (
            " ".join(map(str, event.data.get("items", []))).split()
            + str(event.data.get("text", "")).split()
        ):
            if word.startswith("tok"):
                kind = "pledge" if event.type == "pledge.saved" else "text"
                recorded.add(f"{kind} {event.step_id} {word}")
    missing = [ack for ack in acks if ack.split(" ", 1)[0] != READY and ack not in recorded]
    assert missing == [], f"seed {seed}: acknowledged but not in the journal"


if __name__ == "__main__":
    participant(Path(sys.argv[1]))
