"""Outcomes and evaluation: reoffending checks recorded per enrolment and window, and the
completion and reoffending rates per programme, force and month, as tables, SVG and CSV."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sync_server.dashboard import charts, evaluation
from sync_server.db import SessionFactory
from sync_server.models import AuditEntry, Enrolment, ReoffendingRecord
from tests.dashboard.pages import figure, table
from tests.dashboard.scheme import Person, Scheme, register, signed_in, work
from tests.support.journeys import whole_programme
from tests.support.world import World

SVG = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True)
class Cohort:
    """North enrolments old enough for reoffending checks."""

    finished_long_ago: Person  # 400 days ago, completed
    breached: Person  # 399 days ago, nothing done, breached
    half_year: Person  # 200 days ago, completed


@pytest.fixture
def cohort(client: TestClient, scheme: Scheme, world: World) -> Cohort:
    kiosk = scheme.north_kiosk
    now = datetime.now(UTC)
    people, events = [], []
    for name, days, finish in (("Olive", 400, True), ("Oscar", 399, False), ("Hana", 200, True)):
        assigned = now - timedelta(days=days)
        person, made = register(
            kiosk, first_name=name, due=(assigned + timedelta(days=28)).date(), assigned_at=assigned
        )
        if finish:
            plan = whole_programme(world.programme)
            made += work(kiosk, person, plan, start=assigned + timedelta(days=1))
        people.append(person)
        events += made
    kiosk.push_ok(events)
    csrf = signed_in(client, "north.officer")
    breach = client.post(
        f"/dashboard/outcomes/{people[1].enrolment_id}/deadline",
        data={"csrf_token": csrf, "kind": "breached", "reason": "Never attended."},
    )
    assert breach.status_code == 303
    return Cohort(*people)


def check(
    client: TestClient, csrf: str, person: Person, months: int | str, answer: str
) -> tuple[int, str]:
    response = client.post(
        f"/dashboard/outcomes/{person.enrolment_id}/reoffending",
        data={"csrf_token": csrf, "months": str(months), "reoffended": answer},
    )
    return response.status_code, response.headers.get("location", response.text)


def record_cohort(client: TestClient, csrf: str, cohort: Cohort) -> None:
    for person, months, answer in (
        (cohort.finished_long_ago, 12, "no"),
        (cohort.breached, 3, "yes"),
        (cohort.half_year, 6, "no"),
    ):
        assert check(client, csrf, person, months, answer)[0] == 303


def due_names(client: TestClient, query: str = "") -> list[str]:
    page = client.get(f"/dashboard/outcomes{query}").text
    return [row[0] for row in table(page, "checks") if len(row) > 1]


# --- recording reoffending ---------------------------------------------------------------


def test_checks_fall_due_as_windows_pass_and_leave_the_list_once_answered(
    client: TestClient, cohort: Cohort, sessions: SessionFactory
) -> None:
    csrf = signed_in(client, "north.officer")
    assert due_names(client) == ["Olive", "Oscar", "Hana"]

    record_cohort(client, csrf, cohort)

    assert due_names(client) == []
    every = table(client.get("/dashboard/outcomes?show=all").text, "checks")
    assert [(r[0], r[3], r[4], r[5]) for r in every] == [
        ("Olive", "No", "No", "No"),
        ("Oscar", "Reoffended", "Reoffended", "Reoffended"),
        ("Hana", "No", "No", "Not yet"),
    ]
    with sessions() as s:
        stored = s.execute(select(ReoffendingRecord.months, ReoffendingRecord.reoffended)).all()
    assert sorted(stored) == [(3, True), (6, False), (12, False)]


@pytest.mark.parametrize(
    ("who", "months", "answer", "message"),
    [
        ("late", 3, "no", "can only be recorded once 3 months have passed"),
        ("half_year", 12, "no", "can only be recorded once 12 months have passed"),
        ("finished_long_ago", 3, "yes", "contradicts the record for 12 months"),
        ("finished_long_ago", 5, "yes", "Choose 3, 6 or 12 months."),
        ("finished_long_ago", 3, "", "Say whether they reoffended."),
    ],
)
def test_a_check_that_cannot_be_true_is_refused(
    client: TestClient,
    scheme: Scheme,
    cohort: Cohort,
    sessions: SessionFactory,
    who: str,
    months: int,
    answer: str,
    message: str,
) -> None:
    csrf = signed_in(client, "north.officer")
    record_cohort(client, csrf, cohort)
    person = getattr(cohort, who, None) or getattr(scheme, who)

    status, body = check(client, csrf, person, months, answer)

    assert status == 400
    assert message in body
    with sessions() as s:
        assert len(s.scalars(select(ReoffendingRecord)).all()) == 3


def test_a_reoffence_may_be_recorded_at_once_and_a_check_corrected(
    client: TestClient, scheme: Scheme, cohort: Cohort, sessions: SessionFactory
) -> None:
    csrf = signed_in(client, "north.supervisor")
    record_cohort(client, csrf, cohort)

    early = check(client, csrf, scheme.late, 3, "yes")  # disposal today, reoffended already
    corrected = check(client, csrf, cohort.finished_long_ago, 12, "yes")
    page = client.get(f"/dashboard/outcomes/{cohort.finished_long_ago.enrolment_id}").text

    assert early[0] == corrected[0] == 303
    assert [row[:2] for row in table(page, "reoffending")] == [
        ["3 months", "Not recorded"],
        ["6 months", "Not recorded"],
        ["12 months", "Reoffended"],
    ]
    with sessions() as s:
        entries = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "reoffending.recorded")
            .order_by(AuditEntry.id)
        ).all()
    assert [(e.subject, e.details["months"], e.details["previous"]) for e in entries[-2:]] == [
        (scheme.late.participant_id, 3, None),
        (cohort.finished_long_ago.participant_id, 12, False),
    ]


def test_another_forces_staff_neither_see_nor_record_checks(
    client: TestClient, cohort: Cohort, sessions: SessionFactory
) -> None:
    csrf = signed_in(client, "south.officer")

    assert due_names(client) == []
    assert check(client, csrf, cohort.finished_long_ago, 12, "no")[0] == 404
    with sessions() as s:
        assert s.scalars(select(ReoffendingRecord)).all() == []


# --- the report --------------------------------------------------------------------------

NORTH_TOTAL = ["7", "3", "1", "1", "60.0", "1", "3", "33.3", "1", "3", "33.3", "1", "2", "50.0"]
SOUTH_TOTAL = ["1", "0", "0", "0", "", "0", "0", "", "0", "0", "", "0", "0", ""]


def evaluation_page(client: TestClient, username: str, cohort: Cohort) -> str:
    csrf = signed_in(client, "north.officer")
    record_cohort(client, csrf, cohort)
    signed_in(client, username)
    response = client.get("/dashboard/evaluation")
    assert response.status_code == 200
    return response.text


@pytest.mark.parametrize(
    ("username", "forces"),
    [
        ("north.content", [["North Constabulary", *NORTH_TOTAL]]),
        ("south.officer", [["South Police", *SOUTH_TOTAL]]),
        (
            "scheme.admin",
            [
                ["North Constabulary", *NORTH_TOTAL],
                ["South Police", *SOUTH_TOTAL],
            ],
        ),
    ],
)
def test_rates_per_programme_and_force_count_only_the_users_force(
    client: TestClient, cohort: Cohort, username: str, forces: list[list[str]]
) -> None:
    page = evaluation_page(client, username, cohort)

    by_force = table(page, "by-force")
    assert by_force[:-1] == forces
    total = by_force[-1]
    assert total[0] == "All"
    assert [int(total[i]) for i in (1, 2)] == [sum(int(row[i]) for row in forces) for i in (1, 2)]
    assert table(page, "by-programme") == [["Alcohol and you", *total[1:]], total]
    assert figure(page, "total-enrolments") == total[1]


def test_rates_per_month_group_enrolments_by_month_of_disposal(
    client: TestClient, cohort: Cohort, sessions: SessionFactory, world: World
) -> None:
    page = evaluation_page(client, "north.supervisor", cohort)
    zone = ZoneInfo(world.settings.dashboard_timezone)
    with sessions() as s:
        stored = s.execute(
            select(Enrolment.assigned_at, Enrolment.status).where(Enrolment.force_id == "north")
        ).all()
    months = sorted({at.astimezone(zone).strftime("%Y-%m") for at, _ in stored})
    given = Counter(at.astimezone(zone).strftime("%Y-%m") for at, _ in stored)
    done = Counter(
        at.astimezone(zone).strftime("%Y-%m") for at, status in stored if status == "completed"
    )

    rows = table(page, "by-month")

    assert [row[0] for row in rows] == [
        *(date.fromisoformat(f"{m}-01").strftime("%b %Y") for m in months),
        "All",
    ]
    assert [(row[1], row[2]) for row in rows[:-1]] == [
        (str(given[m]), str(done[m])) for m in months
    ]
    assert rows[-1][1:] == NORTH_TOTAL


@pytest.mark.parametrize("breakdown", list(evaluation.BREAKDOWNS))
def test_each_csv_holds_exactly_the_figures_on_the_page(
    client: TestClient, cohort: Cohort, sessions: SessionFactory, breakdown: str
) -> None:
    page = evaluation_page(client, "scheme.admin", cohort)

    response = client.get(f"/dashboard/evaluation/{breakdown}.csv")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith(
        f'attachment; filename="evaluation-by-{breakdown}-all-forces-'
    )
    header, *rows = list(csv.reader(io.StringIO(response.text)))
    assert header == [evaluation.BREAKDOWNS[breakdown], *evaluation.HEADINGS]
    assert rows == table(page, f"by-{breakdown}")
    assert f'href="/dashboard/evaluation/{breakdown}.csv"' in page
    with sessions() as s:
        exported = s.scalars(
            select(AuditEntry.details).where(AuditEntry.action == "evaluation.exported")
        ).all()
    assert [d["breakdown"] for d in exported] == [breakdown]


def test_a_forces_csv_holds_only_that_force(client: TestClient, cohort: Cohort) -> None:
    evaluation_page(client, "south.officer", cohort)

    rows = list(csv.reader(io.StringIO(client.get("/dashboard/evaluation/force.csv").text)))

    assert rows[1:] == [["South Police", *SOUTH_TOTAL], ["All", *SOUTH_TOTAL]]
    assert client.get("/dashboard/evaluation/site.csv").status_code == 404


def charts_of(page: str) -> dict[str, ET.Element]:
    found = {}
    start = 0
    while (at := page.find("<svg", start)) >= 0:
        end = page.index("</svg>", at) + len("</svg>")
        svg = ET.fromstring(page[at:end])
        found[svg.attrib["data-testid"]] = svg
        start = end
    return found


def bars(svg: ET.Element) -> list[tuple[str, float]]:
    return [
        (rect.findtext(f"{SVG}title") or "", float(rect.attrib["height"]))
        for rect in svg.iter(f"{SVG}rect")
        if rect.attrib.get("class") == "bar"
    ]


def test_the_charts_are_svg_drawn_from_the_same_figures_with_no_script_or_style(
    client: TestClient, cohort: Cohort
) -> None:
    page = evaluation_page(client, "north.officer", cohort)
    plot = charts.HEIGHT - charts.TOP - charts.BOTTOM

    found = charts_of(page)

    assert set(found) == {
        "chart-completion-month",
        "chart-completion-programme",
        "chart-reoffending-programme",
    }
    assert bars(found["chart-completion-programme"]) == [
        ("Alcohol and you, Completion rate: 60.0%", round(plot * 0.6, 2))
    ]
    assert [title for title, _ in bars(found["chart-reoffending-programme"])] == [
        "Alcohol and you, Within 3 months: 33.3%",
        "Alcohol and you, Within 6 months: 33.3%",
        "Alcohol and you, Within 12 months: 50.0%",
    ]
    month_rates = [row[5] for row in table(page, "by-month")[:-1]]
    month_bars = bars(found["chart-completion-month"])
    assert [title.rsplit(": ", 1)[1] for title, _ in month_bars] == [
        f"{rate}%" for rate in month_rates if rate
    ]
    assert " style=" not in page.lower()
    assert "<style" not in page.lower()
    assert "<script" not in page.lower()


def test_a_missing_rate_leaves_a_gap_not_a_zero_bar() -> None:
    chart = charts.bar_chart(
        id="c",
        title="t",
        categories=["A", "B"],
        series=[charts.Series("s", "#000", [None, 0.0])],
    )

    assert [b.title for b in chart.bars] == ["B, s: 0.0%"]
    assert [g.text for g in chart.gaps] == ["–"]
    assert "A: s no data" in chart.description


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("Kent Police", "Kent Police"),
    ],
)
def test_csv_cells_never_start_a_spreadsheet_formula(cell: str, written: str) -> None:
    report = evaluation.Report(
        today=date(2026, 1, 1),
        total=evaluation.Figures(),
        breakdowns={"force": [evaluation.Row("k", cell, evaluation.Figures())]},
    )

    rows = list(csv.reader(io.StringIO(evaluation.csv_text(report, "force"))))

    assert rows[1][0] == written
