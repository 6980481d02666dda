"""What Home shows: each enrolment's progress, the due date in words, completion references,
and the officer's verdicts on reflections and letters (a returned one with its comment)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from content_packs import model
from content_packs.progress import ProgrammeProgress, ReviewState, count_words, progress
from kiosk_app.core.clock import Clock
from kiosk_app.core.library import PackLibrary, PackNotInstalledError
from kiosk_app.store import journal, repos
from kiosk_app.store.db import Store
from kiosk_app.store.models import JournalEvent, ReviewVerdict

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True, slots=True)
class Completion:
    reference: str
    completed_at: datetime
    programme_title: str


@dataclass(frozen=True, slots=True)
class ModuleSummary:
    module_id: str
    title: str
    percent: int
    complete: bool


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    RETURNED = "returned"


@dataclass(frozen=True, slots=True)
class ReviewNote:
    """An officer's verdict on the participant's latest version of a reflection or letter."""

    step_id: str
    step_title: str
    verdict: Verdict
    comment: str  # what to change (returned); may be empty when accepted

    @property
    def needs_rewriting(self) -> bool:
        return self.verdict is Verdict.RETURNED


@dataclass(frozen=True, slots=True)
class EnrolmentSummary:
    enrolment_id: str
    programme_id: str
    title: str
    available: bool  # False until the programme's pack is on this kiosk
    percent: int
    complete: bool
    modules: tuple[ModuleSummary, ...]
    due_date: date
    due_text: str
    overdue: bool
    completion_reference: str | None
    # Returned pieces first (they need the participant), then accepted ones, in step order.
    reviews: tuple[ReviewNote, ...] = ()


@dataclass(frozen=True, slots=True)
class _Due:
    enrolment_id: str
    programme_id: str
    due_date: date
    due_text: str
    overdue: bool

    def fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def due_in_words(due: date, *, today: date) -> str:
    """'12 days left', 'due today', '3 days overdue'."""
    days = (due - today).days
    if days == 0:
        return "due today"
    count = abs(days)
    noun = "day" if count == 1 else "days"
    return f"{count} {noun} left" if days > 0 else f"{count} {noun} overdue"


def completion_reference(*, programme_id: str, enrolment_id: str, completion_event_id: str) -> str:
    """A short code an officer can read back, e.g. ALC-7K2M-9QX4; stable for one completion."""
    prefix = "".join(c for c in programme_id.upper() if c.isalnum())[:3].ljust(3, "X")
    digest = hashlib.sha256(f"{enrolment_id}:{completion_event_id}".encode()).digest()
    number = int.from_bytes(digest[:5], "big")  # 40 bits: eight base32 characters
    chars = "".join(_CROCKFORD[(number >> shift) & 31] for shift in range(35, -1, -5))
    return f"{prefix}-{chars[:4]}-{chars[4:]}"


def local_today(clock: Clock) -> date:
    """Today's date where the kiosk is (due dates are calendar dates, not instants)."""
    return clock.now().astimezone().date()


class HomeService:
    def __init__(self, *, store: Store, clock: Clock, library: PackLibrary) -> None:
        self._store = store
        self._clock = clock
        self._library = library

    def enrolments(
        self, *, participant_id: str, language: str | None = None
    ) -> list[EnrolmentSummary]:
        """Their enrolments, judged by the enrolled programmes' rules; titles from the version
        in `language` where the player would show one (`PackLibrary.language_version`)."""
        today = local_today(self._clock)
        with self._store.unit() as s:
            rows = [
                (e.id, e.programme_id, e.programme_version, e.due_date)
                for e in repos.enrolments_of(s, participant_id)
            ]
            events = {eid: journal.enrolment_events(s, enrolment_id=eid) for eid, *_ in rows}
            verdicts = {eid: repos.review_verdicts(s, enrolment_id=eid) for eid, *_ in rows}
        summaries = []
        for enrolment_id, programme_id, version, due in rows:
            base = _Due(
                enrolment_id, programme_id, due, due_in_words(due, today=today), due < today
            )
            try:
                programme = self._library.programme(pack_id=programme_id, version=version)
            except PackNotInstalledError:
                summaries.append(
                    EnrolmentSummary(
                        title=programme_id,
                        available=False,
                        percent=0,
                        complete=False,
                        modules=(),
                        completion_reference=None,
                        **base.fields(),
                    )
                )
                continue
            rows_of = events[enrolment_id]
            judged = verdicts[enrolment_id]
            shown = (
                self._library.language_version(programme, language=language) if language else None
            ) or programme  # step for step the same (`interchangeable`): only texts differ
            result = progress(
                programme,
                [journal.rule_event(r) for r in rows_of]
                + [journal.verdict_rule_event(v) for v in judged],
            )
            completed = next((r.id for r in rows_of if r.type == "programme.completed"), None)
            reference = (
                completion_reference(
                    programme_id=programme_id,
                    enrolment_id=enrolment_id,
                    completion_event_id=completed,
                )
                if completed and result.complete
                else None
            )
            summaries.append(
                EnrolmentSummary(
                    title=shown.title,
                    available=True,
                    percent=result.percent,
                    complete=result.complete,
                    modules=tuple(
                        ModuleSummary(m.id, m.title, mp.percent, mp.complete)
                        for m, mp in zip(shown.modules, result.modules, strict=True)
                    ),
                    completion_reference=reference,
                    reviews=review_notes(programme, result, rows_of, judged, shown=shown),
                    **base.fields(),
                )
            )
        return summaries


_SUBMITTED = {"reflection": "reflection.submitted", "letter": "letter.submitted"}


def review_notes(
    programme: model.Programme,
    result: ProgrammeProgress,
    events: Sequence[JournalEvent],
    verdicts: Sequence[ReviewVerdict],
    *,
    shown: model.Programme | None = None,
) -> tuple[ReviewNote, ...]:
    """The verdicts Home shows: the review state is the rules' (`result`, computed with the
    verdicts); the comment is the verdict's on the submission the rules judge, the latest one
    long enough to count, as on the server (`sync_server.services.reviews`). Step titles are
    `shown`'s, the version the participant reads, when there is one."""
    by_submission = {v.submission_id: v for v in verdicts}
    titles = {step.id: step.title for step in (shown or programme).all_steps()}
    notes: list[ReviewNote] = []
    for step in programme.all_steps():
        if not isinstance(step, model.ReflectionStep | model.LetterStep):
            continue
        state = result.step(step.id).review
        if state not in (ReviewState.RETURNED, ReviewState.ACCEPTED):
            continue
        counted = [
            e
            for e in events
            if e.step_id == step.id
            and e.type == _SUBMITTED[step.type]
            and isinstance(e.data.get("text"), str)
            and count_words(e.data["text"]) >= step.min_words
        ]
        # The rules' own order (device time, then id), not the order events reached here.
        current = max(counted, key=lambda e: (e.occurred_at, e.id), default=None)
        verdict = by_submission.get(current.id) if current is not None else None
        notes.append(
            ReviewNote(
                step_id=step.id,
                step_title=titles.get(step.id, step.title),
                verdict=Verdict.RETURNED if state is ReviewState.RETURNED else Verdict.ACCEPTED,
                comment=verdict.comment if verdict is not None else "",
            )
        )
    return tuple(sorted(notes, key=lambda n: not n.needs_rewriting))
