"""Finding a participant on this kiosk for an officer, and their record with progress.

Matches by access code (all of it, or any part with a digit, such as the number) or by the
start of the first name, ignoring case. Nothing here logs what was searched for: a query may
be a name. Progress is Home's own (`HomeService`), so the officer sees what the participant
sees.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from kiosk_app.core.clock import Clock
from kiosk_app.core.home import EnrolmentSummary, HomeService
from kiosk_app.core.library import PackLibrary
from kiosk_app.core.officer import OfficerError, Problem
from kiosk_app.store import repos
from kiosk_app.store.db import Store
from kiosk_app.store.models import Participant

log = logging.getLogger(__name__)

MAX_MATCHES = 50


@dataclass(frozen=True, slots=True)
class ParticipantMatch:
    participant_id: str
    first_name: str
    access_code: str
    locked: bool


@dataclass(frozen=True, slots=True)
class ParticipantRecord:
    participant_id: str
    first_name: str
    access_code: str
    locked: bool
    failed_pin_attempts: int
    must_choose_pin: bool  # a temporary PIN is waiting to be replaced at the next sign-in
    enrolments: tuple[EnrolmentSummary, ...]


def _code_form(text: str) -> str:
    return "".join(text.split()).upper()


def matches(query: str, *, first_name: str, access_code: str) -> bool:
    """Whether a participant is one the officer may mean by `query`."""
    wanted = query.strip()
    if not wanted:
        return False
    if first_name.casefold().startswith(wanted.casefold()):
        return True
    code = _code_form(wanted)
    return code == access_code or (any(c.isdigit() for c in code) and code in access_code)


class ParticipantLookup:
    def __init__(self, *, store: Store, clock: Clock, library: PackLibrary) -> None:
        self._store = store
        self._home = HomeService(store=store, clock=clock, library=library)

    def find(self, query: str, *, limit: int = MAX_MATCHES) -> list[ParticipantMatch]:
        """Who `query` may mean, by first name (then access code)."""
        with self._store.unit() as s:
            rows = s.execute(
                select(
                    Participant.id,
                    Participant.first_name,
                    Participant.access_code,
                    Participant.locked,
                )
            ).all()
        # Filtered here, not in SQL: SQLite folds the case of ASCII letters only.
        found = [
            ParticipantMatch(pid, name, code, bool(locked))
            for pid, name, code, locked in rows
            if matches(query, first_name=name, access_code=code)
        ]
        found.sort(key=lambda m: (m.first_name.casefold(), m.access_code))
        return found[:limit]

    def record(self, participant_id: str) -> ParticipantRecord:
        """The participant's sign-in state and progress in each programme assigned to them."""
        with self._store.unit() as s:
            person = repos.participant(s, participant_id)
            if person is None:
                raise OfficerError(
                    "No such participant on this kiosk.", problem=Problem.NO_SUCH_PARTICIPANT
                )
            head = (
                person.first_name,
                person.access_code,
                bool(person.locked),
                person.failed_pin_attempts,
                bool(person.pin_must_change),
            )
        enrolments = tuple(self._home.enrolments(participant_id=participant_id))
        log.info("officer console opened participant %s", participant_id)
        name, code, locked, failed, must_choose = head
        return ParticipantRecord(
            participant_id, name, code, locked, failed, must_choose, enrolments
        )
