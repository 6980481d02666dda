"""Evaluation: completion and reoffending rates per programme, force and month of disposal;
one table of cells feeds the page, its SVG charts and its CSV download alike."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.dashboard.auth import Staff
from sync_server.dashboard.casework import programme_titles
from sync_server.dashboard.charts import Chart, Series, bar_chart
from sync_server.dashboard.deadlines import OutcomeKind
from sync_server.dashboard.overview import ACTIVE
from sync_server.dashboard.reoffending import WINDOWS, records_of, standing
from sync_server.dashboard.scope import force_filter
from sync_server.models import Enrolment, EnrolmentStatus, Force, Outcome

BREAKDOWNS = {"programme": "Programme", "force": "Force", "month": "Month of disposal"}
ALL = "All"
# The published trial DESIGN.md cites: of 100 people given a digital programme, 82 completed
# and 11 reoffended afterwards.
TRIAL_COMPLETION = 0.82
TRIAL_REOFFENDING = 0.11
HEADINGS = [
    "Enrolments",
    "Completed",
    "Breached",
    "Overdue",
    "Completion rate (%)",
    *(
        heading
        for n in WINDOWS
        for heading in (f"Reoffended {n} m", f"Checked {n} m", f"Reoffending {n} m (%)")
    ),
]
# Spreadsheets run a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Figures:
    enrolments: int = 0
    completed: int = 0
    breached: int = 0
    overdue: int = 0
    reoffended: dict[int, int] = field(default_factory=lambda: dict.fromkeys(WINDOWS, 0))
    checked: dict[int, int] = field(default_factory=lambda: dict.fromkeys(WINDOWS, 0))

    @property
    def completion_rate(self) -> float | None:
        """Completed, of the enrolments whose result is known: completed, breached, or past
        the deadline unfinished (open ones and other withdrawals are left out)."""
        decided = self.completed + self.breached + self.overdue
        return self.completed / decided if decided else None

    def reoffending_rate(self, months: int) -> float | None:
        """Reoffended within `months`, of those checked for that window."""
        checked = self.checked[months]
        return self.reoffended[months] / checked if checked else None

    def cells(self) -> list[str]:
        """The figures as the page and the CSV both show them."""
        cells = [
            str(self.enrolments),
            str(self.completed),
            str(self.breached),
            str(self.overdue),
            _rate(self.completion_rate),
        ]
        for n in WINDOWS:
            cells += [
                str(self.reoffended[n]),
                str(self.checked[n]),
                _rate(self.reoffending_rate(n)),
            ]
        return cells


def _rate(value: float | None) -> str:
    # Blank when nothing is known yet: 0 % would claim a result.
    return "" if value is None else f"{value * 100:.1f}"


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    figures: Figures


@dataclass
class Report:
    today: date
    total: Figures
    breakdowns: dict[str, list[Row]]

    def table(self, breakdown: str) -> list[list[str]]:
        """The rows of one breakdown, then the total, as cells."""
        rows = [[row.label, *row.figures.cells()] for row in self.breakdowns[breakdown]]
        return [*rows, [ALL, *self.total.cells()]]

    def charts(self) -> list[Chart]:
        months = self.breakdowns["month"]
        programmes = self.breakdowns["programme"]
        shades = {3: "#5694ca", 6: "#1d4f91", 12: "#0b2f5b"}

        def completion(chart_id: str, title: str, rows: list[Row]) -> Chart:
            rates = [r.figures.completion_rate for r in rows]
            return bar_chart(
                id=chart_id,
                title=title,
                categories=[r.label for r in rows],
                series=[Series("Completion rate", "#00703c", rates)],
                reference=(TRIAL_COMPLETION, f"published trial: {TRIAL_COMPLETION:.0%}"),
            )

        return [
            completion("chart-completion-month", "Completion rate by month of disposal", months),
            completion("chart-completion-programme", "Completion rate by programme", programmes),
            bar_chart(
                id="chart-reoffending-programme",
                title="Reoffending rate by programme",
                categories=[r.label for r in programmes],
                series=[
                    Series(
                        f"Within {n} months",
                        shades[n],
                        [r.figures.reoffending_rate(n) for r in programmes],
                    )
                    for n in WINDOWS
                ],
                reference=(TRIAL_REOFFENDING, f"published trial: {TRIAL_REOFFENDING:.0%}"),
            ),
        ]


def report(s: Session, *, staff: Staff, today: date, zone: str) -> Report:
    """Every figure of the evaluation page, for the enrolments `staff` may see."""
    scope = force_filter(staff, Enrolment.force_id)
    rows = s.execute(
        select(
            Enrolment.id,
            Enrolment.programme_id,
            Enrolment.force_id,
            Enrolment.assigned_at,
            Enrolment.status,
            Enrolment.due_date,
        ).where(scope)
    ).all()
    breached = set(
        s.scalars(
            select(Outcome.enrolment_id)
            .join(Enrolment, Enrolment.id == Outcome.enrolment_id)
            .where(scope, Outcome.kind == OutcomeKind.BREACHED.value)
        )
    )
    records = records_of(s, [r.id for r in rows]) if rows else {}
    tz = ZoneInfo(zone)
    total = Figures()
    groups: dict[str, dict[str, Figures]] = {name: defaultdict(Figures) for name in BREAKDOWNS}
    for enrolment_id, programme_id, force_id, assigned_at, status, due_date in rows:
        month = assigned_at.astimezone(tz).strftime("%Y-%m")
        known = standing(records.get(enrolment_id, {}))
        for figures in (
            total,
            groups["programme"][programme_id],
            groups["force"][force_id],
            groups["month"][month],
        ):
            figures.enrolments += 1
            if status == EnrolmentStatus.COMPLETE:
                figures.completed += 1
            elif enrolment_id in breached:
                figures.breached += 1
            elif status in ACTIVE and due_date < today:
                figures.overdue += 1
            for n in WINDOWS:
                if known[n] is not None:
                    figures.checked[n] += 1
                    figures.reoffended[n] += bool(known[n])
    programme_names = programme_titles(s, set(groups["programme"]))
    force_names = dict(s.execute(select(Force.id, Force.name)).all())
    return Report(
        today=today,
        total=total,
        breakdowns={
            "programme": _rows(groups["programme"], programme_names.get, by_label=True),
            "force": _rows(groups["force"], force_names.get, by_label=True),
            "month": _rows(groups["month"], _month_label, by_label=False),
        },
    )


def _month_label(key: str) -> str:
    return date.fromisoformat(f"{key}-01").strftime("%b %Y")


def _rows(
    groups: dict[str, Figures], label: Callable[[str], str | None], *, by_label: bool
) -> list[Row]:
    rows = [Row(key, label(key) or key, figures) for key, figures in groups.items()]
    return sorted(rows, key=lambda r: r.label.lower() if by_label else r.key)


def csv_text(report: Report, breakdown: str) -> str:
    """One breakdown as CSV (RFC 4180 line ends), with the page's headings and cells."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([BREAKDOWNS[breakdown], *HEADINGS])
    writer.writerows(_safe(row) for row in report.table(breakdown))
    return out.getvalue()


def _safe(cells: Iterable[str]) -> list[str]:
    # A programme title or force name is text, never a formula, when the file is opened.
    return [f"'{c}" if c.startswith(_FORMULA_START) else c for c in cells]
