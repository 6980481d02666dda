"""The kiosk store: encrypted at rest, migrated at start, journal and state in one transaction."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlcipher3  # type: ignore[import-untyped]
from keyring.backends import fail
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk_app.core.clock import ManualClock
from kiosk_app.store import journal, keys, repos
from kiosk_app.store.db import DB_FILE_NAME, Store, open_store
from kiosk_app.store.errors import StoreKeyError
from kiosk_app.store.models import JournalEvent, Participant, ResumePointer

SECRET_NAME = "Zanzibarina"
SECRET_ANSWER = "quixotic-pomegranate-answer"


def _file_keys(data_dir: Path) -> keys.FileKeyStore:
    return keys.FileKeyStore(data_dir / keys.KEY_FILE_NAME)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "kiosk-data"


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    with open_store(data_dir, key_store=_file_keys(data_dir)) as opened:
        yield opened


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def _add_participant(s: Session, name: str = SECRET_NAME, code: str = "ABC-00001") -> None:
    repos.add_participant(
        s, participant_id=f"p-{code}", first_name=name, access_code=code, pin_hash=None
    )


def test_key_file_is_owner_only_and_the_data_folder_too(store: Store, data_dir: Path) -> None:
    key_path = data_dir / keys.KEY_FILE_NAME
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert len(key_path.read_bytes()) == keys.KEY_BYTES


def test_the_same_key_opens_the_store_again(store: Store, data_dir: Path) -> None:
    with store.unit() as s:
        _add_participant(s)
    store.close()
    with open_store(data_dir, key_store=_file_keys(data_dir)) as again, again.unit() as s:
        assert repos.participant_by_code(s, "ABC-00001") is not None


def test_a_key_file_is_never_replaced(data_dir: Path) -> None:
    file_keys = _file_keys(data_dir)
    first = keys.load_or_create_key(data_dir, key_store=file_keys)
    with pytest.raises(keys.KeyStoreError, match="refusing to replace"):
        file_keys.save(b"\x00" * keys.KEY_BYTES)
    assert keys.load_or_create_key(data_dir, key_store=file_keys) == first


def test_a_failing_keyring_backend_falls_back_to_the_key_file(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring

    monkeypatch.setattr(keyring, "get_keyring", fail.Keyring)
    assert not keys.usable_keyring()
    assert isinstance(keys.default_key_store(data_dir), keys.FileKeyStore)


def test_plain_sqlite_cannot_read_the_database(store: Store, data_dir: Path) -> None:
    with store.unit() as s:
        _add_participant(s)
    conn = sqlite3.connect(data_dir / DB_FILE_NAME)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="not a database"):
            conn.execute("SELECT * FROM sqlite_master").fetchall()
    finally:
        conn.close()


def test_a_wrong_key_is_a_store_key_error(store: Store, data_dir: Path) -> None:
    store.close()
    other = keys.FileKeyStore(data_dir / "another.key")
    with pytest.raises(StoreKeyError, match="cannot be opened with this device's key"):
        open_store(data_dir, key_store=other)


def test_sqlcipher_with_a_wrong_raw_key_cannot_read(store: Store, data_dir: Path) -> None:
    store.close()
    conn = sqlcipher3.connect(str(data_dir / DB_FILE_NAME))
    try:
        conn.execute(f"PRAGMA key = \"x'{'00' * 32}'\"")
        with pytest.raises(sqlcipher3.dbapi2.DatabaseError):
            conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
    finally:
        conn.close()


def test_no_names_or_answers_in_the_raw_files(
    store: Store, data_dir: Path, clock: ManualClock
) -> None:
    with store.unit() as s:
        _add_participant(s)
        journal.record(
            s,
            event_type="reflection.submitted",
            participant_id="p-ABC-00001",
            data={"text": SECRET_ANSWER},
            clock=clock,
        )
    # The store is still open, so the WAL holds the pages (not yet checkpointed).
    files = [p for p in data_dir.iterdir() if p.name.startswith(DB_FILE_NAME)]
    assert any(p.name.endswith("-wal") and p.stat().st_size > 0 for p in files)
    for path in files:
        raw = path.read_bytes()
        for secret in (SECRET_NAME, SECRET_ANSWER):
            assert secret.encode() not in raw, f"{secret} in clear in {path.name}"
            assert secret.encode("utf-16-le") not in raw


def test_event_and_state_commit_together_or_not_at_all(store: Store, clock: ManualClock) -> None:
    with store.unit() as s:
        _add_participant(s)

    def fail_between(s: Session) -> None:
        person = repos.participant_by_code(s, "ABC-00001")
        assert person is not None
        journal.record(s, event_type="login.failed", participant_id=person.id, clock=clock)
        person.failed_pin_attempts += 1
        raise RuntimeError("power cut between the event and the commit")

    with pytest.raises(RuntimeError, match="power cut"), store.unit() as s:
        fail_between(s)
    with store.unit() as s:
        assert s.scalars(select(JournalEvent)).all() == []
        person = repos.participant_by_code(s, "ABC-00001")
        assert person is not None
        assert person.failed_pin_attempts == 0


def test_seq_increases_without_gaps_across_failures_and_restarts(
    store: Store, data_dir: Path, clock: ManualClock
) -> None:
    def add(st: Store, n: int) -> None:
        for _ in range(n):
            with st.unit() as s:
                journal.record(s, event_type="session.started", participant_id="p", clock=clock)

    add(store, 3)

    def record_then_fail(s: Session) -> None:
        journal.record(s, event_type="session.started", participant_id="p", clock=clock)
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"), store.unit() as s:
        record_then_fail(s)
    store.close()
    with open_store(data_dir, key_store=_file_keys(data_dir)) as again:
        add(again, 3)
        with again.unit() as s:
            seqs = list(s.scalars(select(JournalEvent.seq).order_by(JournalEvent.seq)))
    assert seqs == [1, 2, 3, 4, 5, 6]


def test_unacked_events_come_in_seq_order_until_acknowledged(
    store: Store, clock: ManualClock
) -> None:
    with store.unit() as s:
        ids = [
            journal.record(s, event_type="session.started", participant_id="p", clock=clock).id
            for _ in range(4)
        ]
    with store.unit() as s:
        assert [e.id for e in journal.unacked(s, limit=10)] == ids
        assert journal.mark_acked(s, event_ids=ids[:2], at=clock.now()) == 2
    with store.unit() as s:
        assert [e.id for e in journal.unacked(s, limit=10)] == ids[2:]


def test_events_carry_utc_and_monotonic_time(store: Store, clock: ManualClock) -> None:
    with store.unit() as s:
        journal.record(s, event_type="session.started", participant_id="p", clock=clock)
    with store.unit() as s:
        row = s.scalars(select(JournalEvent)).one()
        assert row.occurred_at == clock.now()
        assert row.monotonic_ms == clock.monotonic_ms()
        assert row.acked_at is None


def test_only_protocol_event_types_are_journaled(store: Store, clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="not an event type"), store.unit() as s:
        journal.record(s, event_type="privacy.confirmed", participant_id="p", clock=clock)


def test_access_codes_are_unique(store: Store) -> None:
    from sqlalchemy.exc import IntegrityError

    with store.unit() as s:
        _add_participant(s)
    with pytest.raises(IntegrityError), store.unit() as s:
        _add_participant(s, name="Other", code="ABC-00001")
    with store.unit() as s:
        assert len(s.scalars(select(Participant)).all()) == 1


def test_settings_default_to_the_protocol_defaults(store: Store) -> None:
    with store.unit() as s:
        assert repos.settings(s).max_pin_attempts == 5
        assert repos.settings(s).idle_timeout_seconds == 300


def _add_enrolment(s: Session) -> None:
    """A participant (`_add_participant`) with enrolment "e1" on the alcohol programme."""
    _add_participant(s)
    repos.add_enrolment(
        s,
        enrolment_id="e1",
        participant_id="p-ABC-00001",
        programme_id="alcohol-and-you",
        programme_version=1,
        disposal_type="community_resolution",
        due_date=date(2026, 4, 1),
    )


def test_drafts_and_resume_pointers_round_trip(store: Store, clock: ManualClock) -> None:
    with store.unit() as s:
        _add_enrolment(s)
        where = {"participant_id": "p-ABC-00001", "enrolment_id": "e1"}
        repos.save_draft(s, **where, step_id="letter", content={"text": "Dear"}, at=clock.now())
        repos.save_draft(s, **where, step_id="letter", content={"text": "Dear V"}, at=clock.now())
        repos.set_resume_step(s, **where, step_id="letter", at=clock.now())
    with store.unit() as s:
        assert repos.drafts(s, **where).get("letter") == {"text": "Dear V"}
        assert repos.resume_step(s, **where) == "letter"


def test_the_resume_pointer_moves_in_place_and_reads_back_at_once(
    store: Store, clock: ManualClock
) -> None:
    where = {"participant_id": "p-ABC-00001", "enrolment_id": "e1"}
    with store.unit() as s:
        _add_enrolment(s)
        assert repos.resume_step(s, **where) is None
        repos.set_resume_step(s, **where, step_id="welcome", at=clock.now())
        assert repos.resume_step(s, **where) == "welcome"
        clock.advance(60)
        repos.set_resume_step(s, **where, step_id="units-quiz", at=clock.now())
        assert repos.resume_step(s, **where) == "units-quiz"  # in the same unit
    with store.unit() as s:
        rows = s.scalars(select(ResumePointer)).all()
        assert [(r.step_id, r.updated_at) for r in rows] == [("units-quiz", clock.now())]


def test_an_enrolment_status_moves_only_from_the_status_named(store: Store) -> None:
    with store.unit() as s:
        _add_enrolment(s)
    steps = [
        ("in_progress", "assigned", "in_progress"),
        ("completed", None, "completed"),
        ("in_progress", "assigned", "completed"),  # a completed enrolment stays completed
    ]
    for status, only_from, expected in steps:
        with store.unit() as s:
            repos.set_enrolment_status(s, "e1", status, only_from=only_from)
        with store.unit() as s:
            enrolment = repos.enrolment(s, "e1")
            assert enrolment is not None
            assert enrolment.status == expected


def test_units_one_after_another_reuse_the_same_connection(store: Store) -> None:
    """The pool hands back the connection used last, whose page cache is still good (each
    page is read and decrypted once): a step change's unit took 0.6-0.8 ms longer when the
    pool handed its three connections round in turn."""
    with store.engine.connect(), store.engine.connect(), store.engine.connect():
        pass  # three connections now wait in the pool
    drivers = set()
    for durable in (True, False, True, False, True, False):
        with store.unit(durable=durable) as s:
            drivers.add(id(s.connection().connection.driver_connection))
    assert len(drivers) == 1
