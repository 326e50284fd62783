"""Dashboard charts as plain SVG: labelled amounts in, the geometry a template draws out.

No JavaScript and no package: `bar_chart` lays out the bars in a fixed viewBox (the SVG scales
to its container), picks a round top for the dollar axis and thins the x labels so they never
collide; `lib/_bar_chart.html` draws it, with a title and a summary for screen readers and a
tooltip on every bar. Amounts are integer cents and are shown in dollars.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from django.utils.translation import gettext as _

from barnstorm.lib.templatetags.money import dollars

WIDTH = 720
HEIGHT = 240
LEFT = 64  # room for the dollar labels
RIGHT = 8
TOP = 12
BOTTOM = 28  # room for the x labels
GAP = 0.2  # of each slot, between bars
MIN_LABEL_SPACING = 44  # viewBox units between x labels

_ids = itertools.count(1)


@dataclass(frozen=True)
class Point:
    label: str  # short, under the bar: "Mar 3", "9 pm"
    value_cents: int
    title: str = ""  # in full, for the tooltip: "Tuesday, March 3"; the label when empty


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    tooltip: str
    label: str  # empty when thinned out
    label_x: float


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class BarChart:
    id: str
    title: str
    summary: str
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    label_y: int
    bars: list[Bar]
    ticks: list[Tick]

    @property
    def is_empty(self) -> bool:
        return not any(bar.height for bar in self.bars)


def axis_step(top_cents: int, *, ticks: int = 4, smallest: int = 100) -> int:
    """A round step (1, 2 or 5 times a power of ten dollars, or of `smallest`) giving about `ticks` gridlines."""
    rough = max(top_cents / ticks, smallest)
    magnitude = 10 ** math.floor(math.log10(rough))
    return int(next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough))


def bar_chart(points: list[Point], *, title: str, counts: bool = False) -> BarChart:
    """One bar per point, zero at the bottom; negative values (refunds beyond gifts) draw as zero.

    `counts=True` reads the values as plain counts (people, RSVPs) rather than cents.
    """
    fmt = _count if counts else dollars
    plot_bottom, plot_right = HEIGHT - BOTTOM, WIDTH - RIGHT
    plot_height, plot_width = plot_bottom - TOP, plot_right - LEFT
    highest = max((p.value_cents for p in points), default=0)
    step = axis_step(highest, smallest=1 if counts else 100)
    top = max(step, math.ceil(highest / step) * step)

    slot = plot_width / max(len(points), 1)
    every = max(1, math.ceil(MIN_LABEL_SPACING / slot))  # show every n-th x label
    bars = []
    for i, point in enumerate(points):
        height = plot_height * max(point.value_cents, 0) / top
        x = LEFT + i * slot
        bars.append(
            Bar(
                x=round(x + slot * GAP / 2, 2),
                y=round(plot_bottom - height, 2),
                width=round(slot * (1 - GAP), 2),
                height=round(height, 2),
                tooltip=f"{point.title or point.label}: {fmt(point.value_cents)}",
                label=point.label if i % every == 0 else "",
                label_x=round(x + slot / 2, 2),
            )
        )
    ticks = [Tick(y=round(plot_bottom - plot_height * v / top, 2), label=fmt(v)) for v in range(0, top + 1, step)]
    return BarChart(
        id=f"chart-{next(_ids)}",
        title=title,
        summary=_summary(points, fmt),
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=plot_right,
        plot_top=TOP,
        plot_bottom=plot_bottom,
        label_y=HEIGHT - 8,
        bars=bars,
        ticks=ticks,
    )


def _summary(points: list[Point], fmt=dollars) -> str:
    """What a sighted reader takes from the chart at a glance, for a screen reader."""
    if not points:
        return _("No data.")
    best = max(points, key=lambda p: p.value_cents)
    total = sum(p.value_cents for p in points)
    return _("%(count)s bars from %(first)s to %(last)s, %(total)s in all; the highest is %(best)s, %(amount)s.") % {
        "count": len(points),
        "first": points[0].title or points[0].label,
        "last": points[-1].title or points[-1].label,
        "total": fmt(total),
        "best": best.title or best.label,
        "amount": fmt(best.value_cents),
    }


def _count(value: int) -> str:
    return f"{value:,}"


# Lines: several series over the same x labels (signups, RSVPs, attendance per day) --------------

SERIES_COLOURS = ["#c2410c", "#2563eb", "#15803d", "#7c3aed", "#b45309"]


@dataclass(frozen=True)
class Series:
    name: str
    values: list[int]


@dataclass(frozen=True)
class Line:
    name: str
    colour: str
    points: str  # "x,y x,y …" for an SVG polyline
    total: int


@dataclass(frozen=True)
class XLabel:
    x: float
    label: str


@dataclass(frozen=True)
class LineChart:
    id: str
    title: str
    summary: str
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    label_y: int
    lines: list[Line]
    ticks: list[Tick]
    labels: list[XLabel]

    @property
    def is_empty(self) -> bool:
        return not any(line.total for line in self.lines)


def line_chart(series: list[Series], *, labels: list[str], title: str) -> LineChart:
    """One line per series (counts), sharing the x labels; the y axis starts at zero.
    `lib/_line_chart.html` draws it."""
    plot_bottom, plot_right = HEIGHT - BOTTOM, WIDTH - RIGHT
    plot_height, plot_width = plot_bottom - TOP, plot_right - LEFT
    highest = max((v for s in series for v in s.values), default=0)
    step = axis_step(highest, smallest=1)
    top = max(step, math.ceil(highest / step) * step)
    n = max(len(labels), 1)
    dx = plot_width / max(n - 1, 1)
    every = max(1, math.ceil(MIN_LABEL_SPACING / dx))
    lines = []
    for i, one in enumerate(series):
        coords = " ".join(
            f"{round(LEFT + j * dx, 2)},{round(plot_bottom - plot_height * max(v, 0) / top, 2)}"
            for j, v in enumerate(one.values)
        )
        lines.append(Line(one.name, SERIES_COLOURS[i % len(SERIES_COLOURS)], coords, sum(one.values)))
    summary = "; ".join(
        _("%(name)s: %(total)s in all") % {"name": s.name, "total": _count(sum(s.values))} for s in series
    )
    return LineChart(
        id=f"chart-{next(_ids)}",
        title=title,
        summary=summary or _("No data."),
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=plot_right,
        plot_top=TOP,
        plot_bottom=plot_bottom,
        label_y=HEIGHT - 8,
        lines=lines,
        ticks=[Tick(y=round(plot_bottom - plot_height * v / top, 2), label=_count(v)) for v in range(0, top + 1, step)],
        labels=[XLabel(round(LEFT + j * dx, 2), label) for j, label in enumerate(labels) if j % every == 0],
    )


# A funnel: one horizontal bar per stage, as wide as its share of the largest --------------------

FUNNEL_ROW = 34
FUNNEL_LABEL = 150  # room for the stage names on the left


@dataclass(frozen=True)
class Stage:
    label: str
    count: int


@dataclass(frozen=True)
class FunnelBar:
    label: str
    count: str
    share: str  # of everyone in the funnel
    x: float
    y: float
    width: float
    height: float
    text_y: float


@dataclass(frozen=True)
class FunnelChart:
    id: str
    title: str
    summary: str
    width: int
    height: int
    label_x: int
    bars: list[FunnelBar]


def funnel_chart(stages: list[Stage], *, title: str) -> FunnelChart:
    """Stages top to bottom (the widest first, as a ladder's lowest rung is), centred on one axis."""
    total = sum(s.count for s in stages)
    widest = max((s.count for s in stages), default=0) or 1
    room = WIDTH - FUNNEL_LABEL - RIGHT
    bars = []
    for i, stage in enumerate(stages):
        width = room * stage.count / widest
        y = TOP + i * FUNNEL_ROW
        bars.append(
            FunnelBar(
                label=stage.label,
                count=_count(stage.count),
                share=f"{100 * stage.count / total:.1f}%" if total else "–",
                x=round(FUNNEL_LABEL + (room - width) / 2, 2),
                y=y,
                width=round(max(width, 1 if stage.count else 0), 2),
                height=FUNNEL_ROW - 6,
                text_y=y + (FUNNEL_ROW - 6) / 2 + 4,
            )
        )
    summary = "; ".join(f"{s.label}: {_count(s.count)}" for s in stages) or _("No data.")
    return FunnelChart(
        id=f"chart-{next(_ids)}",
        title=title,
        summary=summary,
        width=WIDTH,
        height=TOP * 2 + FUNNEL_ROW * len(stages),
        label_x=FUNNEL_LABEL - 8,
        bars=bars,
    )
