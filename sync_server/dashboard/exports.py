"""Exports of a force's records: enrolments and outcomes as CSV (safe to open in a
spreadsheet), and xAPI statements for a learning record store; every export is audited."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from sqlalchemy import Select, select
from starlette.responses import Response, StreamingResponse

from sync_server.dashboard import xapi
from sync_server.dashboard.access import now, require
from sync_server.dashboard.auth import Staff
from sync_server.dashboard.certificate_models import Certificate
from sync_server.dashboard.overview import ACTIVE
from sync_server.dashboard.scope import force_filter
from sync_server.dashboard.templating import EXPORT_ROLES, PREFIX, render
from sync_server.models import (
    Enrolment,
    Outcome,
    Participant,
    ReoffendingRecord,
    Site,
    StaffUser,
)
from sync_server.runtime import Runtime, runtime_of
from sync_server.services.admin import audit

PATH = f"{PREFIX}/exports"
# A cell a spreadsheet would read as a formula is written as text (OWASP's CSV injection
# advice): a leading quote, which spreadsheets show as nothing.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BATCH = 1000

router = APIRouter(prefix=PATH, include_in_schema=False)
Exporter = Annotated[Staff, Depends(require(EXPORT_ROLES))]


def cell(value: object) -> str:
    """One CSV cell: dates in ISO 8601 (UTC for times), text defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[bytes]:
    """The CSV, a batch of rows at a time; a byte-order mark so spreadsheets read UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    for i, row in enumerate(rows, 1):
        writer.writerow([cell(v) for v in row])
        if i % BATCH == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


@dataclass(frozen=True)
class Period:
    """Enrolments assigned within these days (either end open), in the dashboard's zone."""

    start: date | None = None
    end: date | None = None

    def where(self, zone: str) -> list[Any]:
        tz = ZoneInfo(zone)
        clauses: list[Any] = []
        if self.start:
            clauses.append(Enrolment.assigned_at >= datetime.combine(self.start, time(), tz))
        if self.end:
            end = datetime.combine(self.end + timedelta(days=1), time(), tz)
            clauses.append(Enrolment.assigned_at < end)
        return clauses

    def as_details(self) -> dict[str, str]:
        return {
            k: v.isoformat() for k, v in (("from", self.start), ("to", self.end)) if v is not None
        }


def parse_period(params: Mapping[str, str]) -> tuple[Period, list[str]]:
    errors = []
    days: dict[str, date | None] = {}
    for name in ("from", "to"):
        raw = params.get(name, "").strip()
        try:
            days[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            errors.append(f"{raw[:20]!r} is not a date (use YYYY-MM-DD).")
            days[name] = None
    return Period(days["from"], days["to"]), errors


ENROLMENT_HEADER = (
    "enrolment_id",
    "participant_id",
    "force_reference",
    "force",
    "site",
    "programme",
    "programme_version",
    "disposal_type",
    "status",
    "overdue",
    "progress_percent",
    "assigned_at",
    "due_date",
    "completed_at",
    "completion_received_at",
    "certificate",
)


def enrolment_query(staff: Staff, period: Period, zone: str) -> Select[*tuple[Any, ...]]:
    # No names and no offence text: the force reference ties a row to the force's own files.
    return (
        select(
            Enrolment.id.label("enrolment_id"),
            Enrolment.participant_id,
            Participant.force_reference,
            Enrolment.force_id.label("force"),
            Site.name.label("site"),
            Enrolment.programme_id.label("programme"),
            Enrolment.programme_version,
            Enrolment.disposal_type,
            Enrolment.status,
            Enrolment.progress_percent,
            Enrolment.assigned_at,
            Enrolment.due_date,
            Enrolment.completed_at,
            Enrolment.completion_received_at,
            Certificate.code.label("certificate"),
        )
        .join(Participant, Participant.id == Enrolment.participant_id)
        .join(Site, Site.id == Enrolment.site_id)
        .outerjoin(Certificate, Certificate.enrolment_id == Enrolment.id)
        .where(force_filter(staff, Enrolment.force_id), *period.where(zone))
        .order_by(Enrolment.assigned_at, Enrolment.id)
    )


def _enrolment_rows(
    runtime: Runtime, staff: Staff, period: Period, today: date
) -> Iterator[list[object]]:
    query = enrolment_query(staff, period, runtime.settings.dashboard_timezone)
    with runtime.sessions() as s:
        for row in s.execute(query.execution_options(yield_per=BATCH)):
            values = dict(row._mapping)
            values["overdue"] = values["status"] in ACTIVE and values["due_date"] < today
            values["disposal_type"] = values["disposal_type"].value
            values["status"] = values["status"].value
            yield [values[name] for name in ENROLMENT_HEADER]


OUTCOME_HEADER = (
    "enrolment_id",
    "force_reference",
    "force",
    "programme",
    "record",
    "kind",
    "reoffended",
    "months",
    "previous_due_date",
    "new_due_date",
    "reason",
    "recorded_by",
    "recorded_at",
)


def _outcome_rows(runtime: Runtime, staff: Staff, period: Period) -> Iterator[list[object]]:
    """Deadline outcomes, then reoffending records, each in the order they were recorded."""
    where = [
        force_filter(staff, Enrolment.force_id),
        *period.where(runtime.settings.dashboard_timezone),
    ]
    common = (
        Enrolment.id.label("enrolment_id"),
        Participant.force_reference,
        Enrolment.force_id.label("force"),
        Enrolment.programme_id.label("programme"),
        StaffUser.username.label("recorded_by"),
    )
    deadline = (
        select(
            *common,
            Outcome.kind,
            Outcome.previous_due_date,
            Outcome.new_due_date,
            Outcome.reason,
            Outcome.at.label("recorded_at"),
        )
        .join(Enrolment, Enrolment.id == Outcome.enrolment_id)
        .join(Participant, Participant.id == Enrolment.participant_id)
        .join(StaffUser, StaffUser.id == Outcome.recorded_by)
        .where(*where)
        .order_by(Outcome.at, Outcome.id)
    )
    reoffending = (
        select(
            *common,
            ReoffendingRecord.months,
            ReoffendingRecord.reoffended,
            ReoffendingRecord.at.label("recorded_at"),
        )
        .join(Enrolment, Enrolment.id == ReoffendingRecord.enrolment_id)
        .join(Participant, Participant.id == Enrolment.participant_id)
        .join(StaffUser, StaffUser.id == ReoffendingRecord.recorded_by)
        .where(*where)
        .order_by(ReoffendingRecord.at, ReoffendingRecord.id)
    )
    with runtime.sessions() as s:
        for row in s.execute(deadline.execution_options(yield_per=BATCH)):
            values: dict[str, object] = {**row._mapping, "record": "deadline"}
            yield [values.get(name) for name in OUTCOME_HEADER]
        for again in s.execute(reoffending.execution_options(yield_per=BATCH)):
            values = {
                **again._mapping,
                "record": "reoffending",
                "kind": f"reoffending within {again.months} months",
            }
            yield [values.get(name) for name in OUTCOME_HEADER]


def _audited(runtime: Runtime, staff: Staff, what: str, period: Period) -> None:
    with runtime.sessions.begin() as s:
        audit(
            s,
            action=f"export.{what}",
            subject=None,
            force_id=staff.force_id,
            now=now(),
            actor=staff.username,
            details={"session": staff.session_id, **period.as_details()},
        )


def _download(body: Iterator[bytes], media_type: str, filename: str) -> StreamingResponse:
    return StreamingResponse(
        body,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def _refused_period(request: Request, staff: Staff, errors: list[str]) -> Response:
    return _page(request, staff, errors=errors, status_code=400)


def _page(
    request: Request, staff: Staff, *, errors: list[str] | None = None, status_code: int = 200
) -> Response:
    return render(
        "exports.html",
        staff=staff,
        zone=runtime_of(request).settings.dashboard_timezone,
        status_code=status_code,
        errors=errors or [],
        params=dict(request.query_params),
    )


@router.get("")
def exports_page(request: Request, staff: Exporter) -> Response:
    return _page(request, staff)


@router.get("/enrolments.csv")
def enrolments_csv(request: Request, staff: Exporter) -> Response:
    period, errors = parse_period(request.query_params)
    if errors:
        return _refused_period(request, staff, errors)
    runtime = runtime_of(request)
    zone = runtime.settings.dashboard_timezone
    _audited(runtime, staff, "enrolments", period)
    today = now().astimezone(ZoneInfo(zone)).date()
    body = csv_lines(ENROLMENT_HEADER, _enrolment_rows(runtime, staff, period, today))
    return _download(body, "text/csv; charset=utf-8", "enrolments.csv")


@router.get("/outcomes.csv")
def outcomes_csv(request: Request, staff: Exporter) -> Response:
    period, errors = parse_period(request.query_params)
    if errors:
        return _refused_period(request, staff, errors)
    runtime = runtime_of(request)
    _audited(runtime, staff, "outcomes", period)
    body = csv_lines(OUTCOME_HEADER, _outcome_rows(runtime, staff, period))
    return _download(body, "text/csv; charset=utf-8", "outcomes.csv")


@router.get("/xapi.json")
def xapi_statements(request: Request, staff: Exporter) -> Response:
    period, errors = parse_period(request.query_params)
    if errors:
        return _refused_period(request, staff, errors)
    runtime = runtime_of(request)
    zone = runtime.settings.dashboard_timezone
    _audited(runtime, staff, "xapi", period)
    base = str(request.base_url).rstrip("/")

    def body() -> Iterator[bytes]:
        with runtime.sessions() as s:
            # Ids first, then whole enrolments a chunk at a time: memory stays flat.
            ids = list(
                s.scalars(
                    select(Enrolment.id)
                    .where(force_filter(staff, Enrolment.force_id), *period.where(zone))
                    .order_by(Enrolment.assigned_at, Enrolment.id)
                )
            )
            yield b"["
            first = True
            for i in range(0, len(ids), xapi.CHUNK):
                chunk = ids[i : i + xapi.CHUNK]
                enrolments = s.scalars(select(Enrolment).where(Enrolment.id.in_(chunk))).all()
                ordered = sorted(enrolments, key=lambda e: (e.assigned_at, e.id))
                for statement in xapi.statements(
                    s, enrolments=ordered, base=base, programmes=runtime.programmes
                ):
                    yield (b"\n" if first else b",\n") + json.dumps(statement).encode("utf-8")
                    first = False
                s.expunge_all()
            yield b"\n]\n"

    return _download(body(), "application/json", "xapi-statements.json")
