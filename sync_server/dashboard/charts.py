"""Bar charts of rates laid out on the server, for templates to draw as inline SVG: shapes,
positions and presentation attributes only, so no script or style is needed (strict CSP)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 760
HEIGHT = 300
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 34, 70
# Past this many groups the category labels are turned to fit.
UPRIGHT_LABELS = 8
TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)
MAX_BAR_WIDTH = 48


@dataclass(frozen=True)
class Series:
    name: str
    fill: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    fill: str
    # Read by screen readers and shown as a tooltip: the category, series and figure.
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    rotate: bool = False


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str = ""


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    width: int
    height: int
    bars: list[Bar]
    gaps: list[Label]
    categories: list[Label]
    ticks: list[tuple[Line, Label]]
    legend: list[tuple[Label, str]]
    reference: Line | None
    axis: Line


def percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def bar_chart(
    *,
    id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    reference: tuple[float, str] | None = None,
) -> Chart:
    """Grouped bars of rates between 0 and 1, a group per category and a bar per series; a
    missing rate leaves a gap marked with a dash, never a zero-height bar that reads as 0 %."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_h
    group = plot_w / max(len(categories), 1)
    bar_w = min(group * 0.7 / max(len(series), 1), MAX_BAR_WIDTH)

    def y_of(value: float) -> float:
        return round(TOP + plot_h * (1 - min(max(value, 0.0), 1.0)), 2)

    bars, gaps, labels = [], [], []
    rotate = len(categories) > UPRIGHT_LABELS
    for i, category in enumerate(categories):
        left = LEFT + group * i + (group - bar_w * len(series)) / 2
        for j, s in enumerate(series):
            x = round(left + bar_w * j, 2)
            value = s.values[i]
            if value is None:
                gaps.append(Label(round(x + bar_w / 2, 2), bottom - 4, "–"))
                continue
            y = y_of(value)
            text = f"{category}, {s.name}: {percent(value)}"
            bars.append(Bar(x, y, round(bar_w, 2), round(bottom - y, 2), s.fill, text))
        labels.append(Label(round(LEFT + group * (i + 0.5), 2), bottom + 16, category, rotate))
    ticks = [
        (Line(LEFT, y_of(t), WIDTH - RIGHT, y_of(t)), Label(LEFT - 6, y_of(t) + 4, f"{t:.0%}"))
        for t in TICKS
    ]
    legend = [(Label(LEFT + 150 * k + 16, 18, s.name), s.fill) for k, s in enumerate(series)]
    line = None
    if reference is not None:
        ref_y = y_of(reference[0])
        line = Line(LEFT, ref_y, WIDTH - RIGHT, ref_y, reference[1])
    described = "; ".join(
        f"{category}: "
        + ", ".join(
            f"{s.name} {percent(v) if (v := s.values[i]) is not None else 'no data'}"
            for s in series
        )
        for i, category in enumerate(categories)
    )
    return Chart(
        id=id,
        title=title,
        description=described or "No data yet.",
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        gaps=gaps,
        categories=labels,
        ticks=ticks,
        legend=legend,
        reference=line,
        axis=Line(LEFT, bottom, WIDTH - RIGHT, bottom),
    )
