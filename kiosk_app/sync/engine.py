"""The sync engine: named stages run in order, one handler each, one sync at a time.

push -> pull -> packs. A revoked device is wiped whichever stage hears it. A network error,
429 or 5xx ends the run and sets a jittered backoff kept in the store; any other refusal
ends the run with its reason and waits for the next regular sync.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final, Protocol

import requests

from kiosk_app.core.clock import Clock
from kiosk_app.store import repos
from kiosk_app.store.db import Store
from kiosk_app.sync.device import Provisioned, provisioned
from kiosk_app.sync.packs import Progress, packs_stage
from kiosk_app.sync.pull import pull_stage
from kiosk_app.sync.push import PushReport, push_stage
from kiosk_app.sync.schedule import Backoff, SyncScheduler
from kiosk_app.sync.status import SyncStatus, read_status
from kiosk_app.sync.transport import (
    RetryPolicy,
    RevokedError,
    SyncError,
    TransientError,
    Transport,
)
from kiosk_app.sync.wipe import wipe

log = logging.getLogger(__name__)


class Stage(StrEnum):
    PUSH = "push"
    PULL = "pull"
    PACKS = "packs"


STAGES: Final = (Stage.PUSH, Stage.PULL, Stage.PACKS)


class Outcome(StrEnum):
    SYNCED = "synced"
    FAILED = "failed"  # will be tried again (see next_attempt_at)
    REFUSED = "refused"  # the server refused; the next regular sync tries again
    WIPED = "wiped"  # the device was revoked and is unprovisioned now
    BUSY = "busy"  # another sync was running
    WAITING = "waiting"  # backing off after a failure; not due yet
    NOT_ENROLLED = "not-enrolled"


@dataclass(frozen=True, slots=True)
class SyncResult:
    outcome: Outcome
    stage: Stage | None = None  # where the run stopped, if it did not finish
    pushed: PushReport = PushReport()
    pulled_changes: int = 0
    pulled_events: int = 0
    packs_installed: tuple[tuple[str, int], ...] = ()
    packs_refused: tuple[tuple[str, int, str], ...] = ()
    error: str | None = None
    next_attempt_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.SYNCED


class RunsSyncs(Protocol):
    """Whatever runs one sync when asked: the engine itself, or the UI's driver of it."""

    def run_once(self, *, force: bool = False) -> SyncResult: ...


@dataclass(slots=True)
class _Run:
    """What one run knows and has done so far."""

    device: Provisioned
    transport: Transport
    now: datetime
    pushed: PushReport = PushReport()
    pulled_changes: int = 0
    pulled_events: int = 0
    installed: list[tuple[str, int]] = field(default_factory=list)
    refused: list[tuple[str, int, str]] = field(default_factory=list)


class SyncEngine:
    """Runs syncs for one kiosk store; `run_once` is thread-safe and never overlaps itself."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        backoff: Backoff | None = None,
        retry: RetryPolicy | None = None,
        http: Callable[[], requests.Session] = requests.Session,
        progress: Progress | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._retry = retry or RetryPolicy()
        self._http = http
        self._progress = progress
        self._lock = threading.Lock()
        self._handlers: dict[Stage, Callable[[_Run], None]] = {
            Stage.PUSH: self._push,
            Stage.PULL: self._pull,
            Stage.PACKS: self._packs,
        }

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def running(self) -> bool:
        return self._lock.locked()

    def status(self) -> SyncStatus:
        return read_status(self._store, syncing=self.running)

    def transport(self, device: Provisioned) -> Transport:
        return Transport(
            server_url=device.server_url,
            credentials=device.credentials,
            clock_offset=device.clock_offset,
            retry=self._retry,
            now=self._clock.now,
            http=self._http(),
        )

    def seconds_until_due(
        self, scheduler: SyncScheduler, *, follow_settings: bool = True
    ) -> float | None:
        """Seconds until the next sync is due by `scheduler`: the backoff kept in the store
        after a failure, else the interval (jittered) after the last attempt; None when the
        kiosk is not enrolled. With `follow_settings` the interval is the server's setting."""
        with self._store.unit() as s:
            if repos.device(s).device_id is None:
                return None
            state = repos.sync_state(s)
            last, backing_off_until = state.last_attempt_at, state.next_attempt_at
            interval = repos.settings(s).sync_interval_seconds
        if follow_settings:
            scheduler = dataclasses.replace(scheduler, interval_seconds=float(interval))
        return scheduler.delay_seconds(
            now=self._clock.now(), last_attempt_at=last, next_attempt_at=backing_off_until
        )

    def run_once(self, *, force: bool = False) -> SyncResult:
        """One sync now (or at once if `force`, even while backing off); never blocks on
        another sync: answers BUSY instead."""
        if not self._lock.acquire(blocking=False):
            return SyncResult(Outcome.BUSY)
        try:
            return self._run(force=force)
        finally:
            self._lock.release()

    def _run(self, *, force: bool) -> SyncResult:
        now = self._clock.now()
        with self._store.unit() as s:
            device = provisioned(s)
            state = repos.sync_state(s)
            waiting_until = state.next_attempt_at
            if device is not None and (force or waiting_until is None or waiting_until <= now):
                state.last_attempt_at = now
        if device is None:
            return SyncResult(Outcome.NOT_ENROLLED)
        if not force and waiting_until is not None and waiting_until > now:
            return SyncResult(Outcome.WAITING, next_attempt_at=waiting_until)
        run = _Run(device=device, transport=self.transport(device), now=now)
        stage: Stage | None = None
        try:
            for stage in STAGES:
                self._handlers[stage](run)
        except RevokedError:
            wipe(self._store)
            return SyncResult(Outcome.WIPED, stage=stage, error="This device was revoked.")
        except SyncError as exc:
            return self._failed(run, stage, exc)
        finally:
            run.transport.close()
        with self._store.unit() as s:
            state = repos.sync_state(s)
            state.failures = 0
            state.next_attempt_at = None
            state.last_success_at = self._clock.now()
            state.last_error = _refused_text(run.refused)
            state.clock_offset_seconds = run.transport.clock_offset.total_seconds()
        log.info("sync done: pushed %s, pulled %d changes", run.pushed, run.pulled_changes)
        return self._result(run, Outcome.SYNCED, None, None, None)

    def _failed(self, run: _Run, stage: Stage | None, exc: SyncError) -> SyncResult:
        transient = isinstance(exc, TransientError)
        message = f"Sync failed while {_DOING[stage] if stage else 'starting'}: {exc}"
        with self._store.unit() as s:
            state = repos.sync_state(s)
            state.last_error = message[:500]
            state.clock_offset_seconds = run.transport.clock_offset.total_seconds()
            next_at = None
            if transient:
                state.failures += 1
                delay = self._backoff.delay_seconds(state.failures)
                next_at = self._clock.now() + timedelta(seconds=delay)
                state.next_attempt_at = next_at
        log.warning("%s", message)
        outcome = Outcome.FAILED if transient else Outcome.REFUSED
        return self._result(run, outcome, stage, message, next_at)

    def _result(
        self,
        run: _Run,
        outcome: Outcome,
        stage: Stage | None,
        error: str | None,
        next_at: datetime | None,
    ) -> SyncResult:
        return SyncResult(
            outcome,
            stage=stage,
            pushed=run.pushed,
            pulled_changes=run.pulled_changes,
            pulled_events=run.pulled_events,
            packs_installed=tuple(run.installed),
            packs_refused=tuple(run.refused),
            error=error,
            next_attempt_at=next_at,
        )

    # --- the stages, one handler each ------------------------------------------------

    def _push(self, run: _Run) -> None:
        run.pushed = push_stage(
            store=self._store, transport=run.transport, device_id=run.device.device_id, now=run.now
        )

    def _pull(self, run: _Run) -> None:
        report = pull_stage(store=self._store, transport=run.transport, now=run.now)
        run.pulled_changes = report.changes
        run.pulled_events = report.events

    def _packs(self, run: _Run) -> None:
        report = packs_stage(
            store=self._store,
            transport=run.transport,
            identity=run.device.identity,
            publisher_keys=run.device.publisher_keys,
            now=run.now,
            progress=self._progress,
        )
        run.installed.extend(report.installed)
        run.refused.extend(report.refused)


_DOING = {
    Stage.PUSH: "sending records",
    Stage.PULL: "receiving updates",
    Stage.PACKS: "downloading programmes",
}


def _refused_text(refused: list[tuple[str, int, str]]) -> str | None:
    if not refused:
        return None
    pack_id, version, why = refused[0]
    return f"Programme {pack_id} version {version} was not installed: {why}"[:500]
