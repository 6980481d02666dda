"""Exports of a force's records: enrolments and outcomes as CSV (safe to open in a
spreadsheet), and xAPI statements for a learning record store; every export is audited."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
from sync_server.dashboard.casework import SPAN, local_today, parse_days
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


def _scope(staff: Staff, period: Period, runtime: Runtime) -> list[Any]:
    """The enrolments a staff member may export, assigned within the period."""
    return [
        force_filter(staff, Enrolment.force_id),
        *period.where(runtime.settings.dashboard_timezone),
    ]


def parse_period(params: Mapping[str, str]) -> tuple[Period, list[str]]:
    days, errors = parse_days(params, SPAN, refused=".")
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


def enrolment_query(where: list[Any]) -> Select[*tuple[Any, ...]]:
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
        .where(*where)
        .order_by(Enrolment.assigned_at, Enrolment.id)
    )


def _ordered(header: Sequence[str], values: Mapping[str, object]) -> list[object]:
    return [values.get(name) for name in header]


def _enrolment_rows(runtime: Runtime, staff: Staff, period: Period) -> Iterator[list[object]]:
    today = local_today(runtime, now())
    query = enrolment_query(_scope(staff, period, runtime))
    with runtime.sessions() as s:
        for row in s.execute(query.execution_options(yield_per=BATCH)):
            values = dict(row._mapping)
            values["overdue"] = values["status"] in ACTIVE and values["due_date"] < today
            values["disposal_type"] = values["disposal_type"].value
            values["status"] = values["status"].value
            yield _ordered(ENROLMENT_HEADER, values)


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


def _recorded_query(
    record: type[Outcome] | type[ReoffendingRecord], where: list[Any], *columns: Any
) -> Select[*tuple[Any, ...]]:
    """One kind of record with its enrolment and recorder, in the order they were recorded."""
    return (
        select(
            Enrolment.id.label("enrolment_id"),
            Participant.force_reference,
            Enrolment.force_id.label("force"),
            Enrolment.programme_id.label("programme"),
            StaffUser.username.label("recorded_by"),
            *columns,
            record.at.label("recorded_at"),
        )
        .join(Enrolment, Enrolment.id == record.enrolment_id)
        .join(Participant, Participant.id == Enrolment.participant_id)
        .join(StaffUser, StaffUser.id == record.recorded_by)
        .where(*where)
        .order_by(record.at, record.id)
    )


def _outcome_rows(runtime: Runtime, staff: Staff, period: Period) -> Iterator[list[object]]:
    """Deadline outcomes, then reoffending records, each in the order they were recorded."""
    where = _scope(staff, period, runtime)
    deadline = _recorded_query(
        Outcome,
        where,
        Outcome.kind,
        Outcome.previous_due_date,
        Outcome.new_due_date,
        Outcome.reason,
    )
    reoffending = _recorded_query(
        ReoffendingRecord, where, ReoffendingRecord.months, ReoffendingRecord.reoffended
    )
    with runtime.sessions() as s:
        for row in s.execute(deadline.execution_options(yield_per=BATCH)):
            yield _ordered(OUTCOME_HEADER, {**row._mapping, "record": "deadline"})
        for again in s.execute(reoffending.execution_options(yield_per=BATCH)):
            kind = f"reoffending within {again.months} months"
            yield _ordered(
                OUTCOME_HEADER, {**again._mapping, "record": "reoffending", "kind": kind}
            )


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


Body = Callable[[Runtime, Period], Iterator[bytes]]
Rows = Callable[[Runtime, Staff, Period], Iterable[Iterable[object]]]


def _export(
    request: Request, staff: Staff, what: str, body: Body, *, media_type: str, filename: str
) -> Response:
    """The period asked for, audited, then `body` streamed as a download; a period that is
    not one answers the page again with why."""
    period, errors = parse_period(request.query_params)
    if errors:
        return _page(request, staff, errors=errors, status_code=400)
    runtime = runtime_of(request)
    _audited(runtime, staff, what, period)
    return StreamingResponse(
        body(runtime, period),
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def _csv_export(
    request: Request, staff: Staff, what: str, header: Sequence[str], rows: Rows
) -> Response:
    """A CSV download of `rows` under `header`, streamed a batch at a time."""
    return _export(
        request,
        staff,
        what,
        lambda runtime, period: csv_lines(header, rows(runtime, staff, period)),
        media_type="text/csv; charset=utf-8",
        filename=f"{what}.csv",
    )


@router.get("")
def exports_page(request: Request, staff: Exporter) -> Response:
    return _page(request, staff)


@router.get("/enrolments.csv")
def enrolments_csv(request: Request, staff: Exporter) -> Response:
    return _csv_export(request, staff, "enrolments", ENROLMENT_HEADER, _enrolment_rows)


@router.get("/outcomes.csv")
def outcomes_csv(request: Request, staff: Exporter) -> Response:
    return _csv_export(request, staff, "outcomes", OUTCOME_HEADER, _outcome_rows)


@router.get("/xapi.json")
def xapi_statements(request: Request, staff: Exporter) -> Response:
    base = str(request.base_url).rstrip("/")

    def body(runtime: Runtime, period: Period) -> Iterator[bytes]:
        return xapi.json_array(
            runtime.sessions,
            enrolment_ids=select(Enrolment.id)
            .where(*_scope(staff, period, runtime))
            .order_by(Enrolment.assigned_at, Enrolment.id),
            base=base,
            programmes=runtime.programmes,
        )

    return _export(
        request,
        staff,
        "xapi",
        body,
        media_type="application/json",
        filename="xapi-statements.json",
    )
