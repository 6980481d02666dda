"""The programme player: where a participant is, what each step needs, and what they did.

Every action is one unit of work: the journal event and the state it changes (resume
pointer, enrolment status, the completion record) commit together. Whether a step is
complete is always `content_packs.progress` over the journal's events; nothing here
re-implements a rule.
"""

from __future__ import annotations

import copy
import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from pydantic import JsonValue
from sqlalchemy.orm import Session

from content_packs import model
from content_packs.progress import (
    ProgrammeProgress,
    StepStatus,
    count_words,
    progress,
    step_complete,
)
from kiosk_app.core.clock import Clock
from kiosk_app.core.home import Completion, completion_reference
from kiosk_app.core.step_results import PledgeResult, QuizFeedback, TextResult, quiz_feedback
from kiosk_app.store import journal, repos
from kiosk_app.store.db import Store

log = logging.getLogger(__name__)


class PlayerError(Exception):
    """An action the current step does not allow (the UI should not have offered it)."""


class ProgrammePlayer:
    """One participant working through one enrolment, on the programme of its installed pack.

    `shown` is a language version of `programme` to show instead (see
    `kiosk_app.core.library.interchangeable`): `programme` is the one enrolled on, and its
    rules judge every event, as the server's do; `self.programme` is the one on screen.
    """

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        programme: model.Programme,
        participant_id: str,
        enrolment_id: str,
        shown: model.Programme | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self.rules = programme
        self.programme = shown or programme
        self.participant_id = participant_id
        self.enrolment_id = enrolment_id
        self._order = [s.id for s in programme.all_steps()]
        self._view_start_ms: int | None = None
        self._pending: list[model.Event] = []
        # Set once a unit has moved the enrolment past "assigned": statuses only move forward
        # (sync pulls rank them), so later units skip that UPDATE.
        self._started = False
        with store.unit() as s:
            rows = journal.enrolment_events(s, enrolment_id=enrolment_id)
            verdicts = repos.review_verdicts(s, enrolment_id=enrolment_id)
            resume = repos.resume_step(s, participant_id=participant_id, enrolment_id=enrolment_id)
            # Drafts are this kiosk's own and only this player writes them while it is open:
            # read once here, then kept in step with every commit (`_draft_changes`), so a
            # step's view gets its draft without a database round trip after Next.
            self._drafts = repos.drafts(s, participant_id=participant_id, enrolment_id=enrolment_id)
        self._draft_changes: dict[str, dict[str, Any] | None] = {}
        # The officer's verdicts too, so review states read as on the server (they never
        # lock or unlock a step: see content_packs.progress).
        self._events = [journal.rule_event(r) for r in rows]
        self._events += [journal.verdict_rule_event(v) for v in verdicts]
        self._completion_event_id = next(
            (r.id for r in rows if r.type == "programme.completed"), None
        )
        self._progress = progress(self.rules, self._events)
        self._current = self._starting_step(resume)

    # --- where we are ----------------------------------------------------------------

    def _starting_step(self, resume: str | None) -> str:
        if resume in self._order and self.step_state(resume) is not StepStatus.LOCKED:
            return resume
        return self._progress.next_step_id or self._order[-1]

    @property
    def current_step_id(self) -> str:
        return self._current

    @property
    def current_step(self) -> model.Step:
        return self.programme.step(self._current)

    @property
    def position(self) -> tuple[int, int]:
        """(1-based number of the current step, number of steps) for the progress bar."""
        return self._order.index(self._current) + 1, len(self._order)

    def progress(self) -> ProgrammeProgress:
        return self._progress

    def step_state(self, step_id: str) -> StepStatus:
        return self._progress.step(step_id).status

    def _neighbour(self, offset: int) -> str | None:
        index = self._order.index(self._current) + offset
        return self._order[index] if 0 <= index < len(self._order) else None

    def can_go_next(self) -> bool:
        """True when a next step exists and the rules unlock it (counting the dwell so far)."""
        following = self._neighbour(1)
        if following is None:
            return False
        if self.step_state(following) is not StepStatus.LOCKED:
            return True  # more events only ever unlock steps: no need to count the dwell
        pending = self._pending_view()
        if pending is None:
            return False
        with_view = progress(self.rules, [*self._events, pending])
        return with_view.step(following).status is not StepStatus.LOCKED

    def can_go_back(self) -> bool:
        return self._neighbour(-1) is not None

    def next(self) -> str:
        if not self.can_go_next():
            raise PlayerError("the current step is not complete yet")
        following = self._neighbour(1)
        assert following is not None
        return self._move_to(following)

    def back(self) -> str:
        previous = self._neighbour(-1)
        if previous is None:
            raise PlayerError("this is the first step")
        return self._move_to(previous)

    def _move_to(self, step_id: str) -> str:
        viewing = self._view_start_ms
        completed = self._completion_event_id
        try:
            # Moving is bookkeeping (the dwell, the resume pointer): committed without an
            # fsync so the next step shows at once; it still survives a crash of the app.
            with self._unit(durable=False) as s:
                self._end_view(s)
                repos.set_resume_step(
                    s,
                    participant_id=self.participant_id,
                    enrolment_id=self.enrolment_id,
                    step_id=step_id,
                    at=self._clock.now(),
                )
        except BaseException:
            self._view_start_ms = viewing  # nothing was recorded: the view goes on
            raise
        if completed is None and self._completion_event_id is not None:
            self._store.sync()  # the dwell completed the programme: that record is kept
        self._current = step_id
        if viewing is not None:
            self.view_started()
        return step_id

    # --- viewing ---------------------------------------------------------------------

    def view_started(self) -> None:
        """The current step is on screen; dwell counts from now (monotonic clock)."""
        self._view_start_ms = self._clock.monotonic_ms()

    def view_ended(self) -> None:
        """The step left the screen (or the session ends): journal the dwell as step.viewed."""
        started = self._view_start_ms
        try:
            with self._unit() as s:
                self._end_view(s)
        except BaseException:
            self._view_start_ms = started
            raise

    def _dwell_ms(self) -> int | None:
        if self._view_start_ms is None:
            return None
        return max(0, self._clock.monotonic_ms() - self._view_start_ms)

    def _pending_view(self) -> model.Event | None:
        dwell = self._dwell_ms()
        if dwell is None:
            return None
        return model.Event(
            id=str(uuid.uuid4()),
            type="step.viewed",
            step_id=self._current,
            occurred_at=self._clock.now(),
            data={"dwell_ms": dwell},
        )

    def _end_view(self, s: Session) -> None:
        dwell = self._dwell_ms()
        self._view_start_ms = None
        if dwell is not None:
            self._record(s, "step.viewed", {"dwell_ms": dwell})

    # --- recording -------------------------------------------------------------------

    def _record(self, s: Session, event_type: str, data: Mapping[str, JsonValue]) -> model.Event:
        row = journal.record(
            s,
            event_type=event_type,
            participant_id=self.participant_id,
            enrolment_id=self.enrolment_id,
            step_id=self._current,
            data=data,
            clock=self._clock,
        )
        event = journal.rule_event(row)
        self._pending.append(event)
        return event

    def _after_events(self, s: Session) -> tuple[list[model.Event], ProgrammeProgress, str | None]:
        """Finish a unit: enrolment status and the completion record, in the same transaction."""
        events = [*self._events, *self._pending]
        new_progress = progress(self.rules, events)
        if self._pending and not self._started:
            repos.set_enrolment_status(s, self.enrolment_id, "in_progress", only_from="assigned")
        completion_id = self._completion_event_id
        if new_progress.complete and completion_id is None:
            completed_at = new_progress.completed_at
            assert completed_at is not None
            row = journal.record(
                s,
                event_type="programme.completed",
                participant_id=self.participant_id,
                enrolment_id=self.enrolment_id,
                data={"completed_at": completed_at.isoformat()},
                clock=self._clock,
            )
            completion_id = row.id
            events.append(journal.rule_event(row))
            repos.set_enrolment_status(s, self.enrolment_id, "completed")
            log.info("enrolment %s completed", self.enrolment_id)
        s.flush()
        return events, new_progress, completion_id

    @contextmanager
    def _unit(self, *, durable: bool = True) -> Iterator[Session]:
        """One action: its events and state commit together, and memory follows only then."""
        self._pending = []
        self._draft_changes = {}
        with self._store.unit(durable=durable) as s:
            yield s
            staged = self._after_events(s)
        self._events, self._progress, self._completion_event_id = staged
        self._started = self._started or bool(self._pending)
        self._apply_draft_changes()

    def media_played(self, *, fraction: float) -> bool:
        """The share of the media one playback covered (0..1); True if the step is complete."""
        self._require(model.AudioStep, model.VideoStep)
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        with self._unit() as s:
            self._record(s, "media.played", {"fraction": fraction})
        return self.step_state(self._current) is StepStatus.COMPLETE

    def answer_quiz(self, answers: Mapping[str, int]) -> QuizFeedback:
        """Mark one attempt (question id -> chosen option index) and journal it."""
        shown = self._require(model.QuizStep)
        step = self.rules.step(shown.id)
        assert isinstance(step, model.QuizStep)
        assert isinstance(shown, model.QuizStep)
        known = {q.id: q for q in step.questions}
        if set(answers) != set(known):
            raise PlayerError("answer every question of the quiz, and only those")
        for qid, index in answers.items():
            if not 0 <= index < len(known[qid].options):
                raise PlayerError(f"question {qid} has no option {index}")
        attempt = 1 + sum(e.type == "quiz.answered" and e.step_id == step.id for e in self._events)
        if step.max_attempts is not None and attempt > step.max_attempts:
            raise PlayerError("no attempts left on this quiz; an officer can help")
        data: dict[str, JsonValue] = {"attempt": attempt, "answers": dict(answers)}
        with self._unit() as s:
            event = self._record(s, "quiz.answered", data)
            # The choices autosaved were this attempt's: the next one starts afresh.
            repos.delete_draft(
                s,
                participant_id=self.participant_id,
                enrolment_id=self.enrolment_id,
                step_id=step.id,
            )
            self._draft_changes[step.id] = None
        return quiz_feedback(
            step, shown, answers, attempt=attempt, passed=step_complete(step, [event])
        )

    def submit_text(self, text: str) -> TextResult:
        """Submit a reflection or letter; too short is refused with how many words are needed."""
        step = self.rules.step(self._require(model.ReflectionStep, model.LetterStep).id)
        assert isinstance(step, model.ReflectionStep | model.LetterStep)
        words = count_words(text)
        if words < step.min_words:
            needed = step.min_words - words
            unit = "word" if needed == 1 else "words"
            return TextResult(False, words, needed, f"Please write {needed} more {unit}.")
        kind = "letter.submitted" if isinstance(step, model.LetterStep) else "reflection.submitted"
        with self._unit() as s:
            self._record(s, kind, {"text": text})
            self._save_draft(s, {"text": text})
        return TextResult(True, words, 0, "Saved.")

    def save_pledge(self, items: Sequence[str]) -> PledgeResult:
        step = self.rules.step(self._require(model.PledgeStep).id)
        assert isinstance(step, model.PledgeStep)
        cleaned = [" ".join(i.split()) for i in items if i.strip()]
        trial = model.Event(
            id=str(uuid.uuid4()),
            type="pledge.saved",
            step_id=step.id,
            occurred_at=self._clock.now(),
            data={"items": list(cleaned)},
        )
        if not step_complete(step, [trial]):
            distinct = len({i.casefold() for i in cleaned})
            needed = step.min_items - distinct
            unit = "action" if needed == 1 else "actions"
            return PledgeResult(False, needed, f"Please add {needed} more different {unit}.")
        with self._unit() as s:
            self._record(s, "pledge.saved", {"items": list(cleaned)})
            self._save_draft(s, {"items": list(cleaned)})
        return PledgeResult(True, 0, "Saved.")

    def confirm_checkpoint(self) -> None:
        self._require(model.CheckpointStep)
        with self._unit() as s:
            self._record(s, "step.completed", {})

    # --- drafts ----------------------------------------------------------------------

    def save_draft(self, content: Mapping[str, Any]) -> None:
        """Autosave work in progress on the current step (no event, own small transaction)."""
        self._draft_changes = {}
        with self._store.unit() as s:
            self._save_draft(s, content)
        self._apply_draft_changes()

    def _save_draft(self, s: Session, content: Mapping[str, Any]) -> None:
        repos.save_draft(
            s,
            participant_id=self.participant_id,
            enrolment_id=self.enrolment_id,
            step_id=self._current,
            content=dict(content),
            at=self._clock.now(),
        )
        self._draft_changes[self._current] = dict(content)

    def _apply_draft_changes(self) -> None:
        """After a commit: the drafts in memory follow what it wrote."""
        changes, self._draft_changes = self._draft_changes, {}
        for step_id, content in changes.items():
            if content is None:
                self._drafts.pop(step_id, None)
            else:
                self._drafts[step_id] = content

    def draft(self) -> dict[str, Any] | None:
        """Work in progress on the current step. With none saved on this kiosk, the text last
        submitted on it (perhaps on another kiosk), so a reflection or letter the officer
        returned is rewritten, not typed again from nothing."""
        saved = self._drafts.get(self._current)
        if saved is not None:
            return copy.deepcopy(saved)
        submitted = [
            e
            for e in self._events
            if e.step_id == self._current
            and e.type in ("reflection.submitted", "letter.submitted")
            and isinstance(e.data.get("text"), str)
        ]
        latest = max(submitted, key=lambda e: (e.occurred_at, e.id), default=None)
        return None if latest is None else {"text": latest.data["text"]}

    # --- completion ------------------------------------------------------------------

    def completion(self) -> Completion | None:
        """The completion record to show the officer, once the programme is complete."""
        if self._completion_event_id is None or self._progress.completed_at is None:
            return None
        return Completion(
            reference=completion_reference(
                programme_id=self.rules.id,  # the enrolled programme's, as Home shows it
                enrolment_id=self.enrolment_id,
                completion_event_id=self._completion_event_id,
            ),
            completed_at=self._progress.completed_at,
            programme_title=self.programme.title,
        )

    def close(self) -> None:
        """End the current view (journals the dwell so far)."""
        if self._view_start_ms is not None:
            self.view_ended()

    # --- helpers ---------------------------------------------------------------------

    def _require(self, *kinds: type[model.StepBase]) -> model.Step:
        step = self.current_step
        if not isinstance(step, kinds):
            raise PlayerError(f"the current step is a {step.type}, not a {kinds[0].__name__}")
        if self.step_state(step.id) is StepStatus.LOCKED:
            raise PlayerError("the current step is locked")
        return step
