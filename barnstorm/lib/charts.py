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


def axis_step(top_cents: int, *, ticks: int = 4) -> int:
    """A round step (1, 2 or 5 times a power of ten dollars) giving about `ticks` gridlines."""
    rough = max(top_cents / ticks, 100)
    magnitude = 10 ** math.floor(math.log10(rough))
    return int(next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough))


def bar_chart(points: list[Point], *, title: str) -> BarChart:
    """One bar per point, zero at the bottom; negative values (refunds beyond gifts) draw as zero."""
    plot_bottom, plot_right = HEIGHT - BOTTOM, WIDTH - RIGHT
    plot_height, plot_width = plot_bottom - TOP, plot_right - LEFT
    highest = max((p.value_cents for p in points), default=0)
    step = axis_step(highest)
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
                tooltip=f"{point.title or point.label}: {dollars(point.value_cents)}",
                label=point.label if i % every == 0 else "",
                label_x=round(x + slot / 2, 2),
            )
        )
    ticks = [Tick(y=round(plot_bottom - plot_height * v / top, 2), label=dollars(v)) for v in range(0, top + 1, step)]
    return BarChart(
        id=f"chart-{next(_ids)}",
        title=title,
        summary=_summary(points),
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


def _summary(points: list[Point]) -> str:
    """What a sighted reader takes from the chart at a glance, for a screen reader."""
    if not points:
        return _("No data.")
    best = max(points, key=lambda p: p.value_cents)
    total = sum(p.value_cents for p in points)
    return _("%(count)s bars from %(first)s to %(last)s, %(total)s in all; the highest is %(best)s, %(amount)s.") % {
        "count": len(points),
        "first": points[0].title or points[0].label,
        "last": points[-1].title or points[-1].label,
        "total": dollars(total),
        "best": best.title or best.label,
        "amount": dollars(best.value_cents),
    }
