"""Chart geometry for server-side SVG: bars and lines as coordinates, axes with round ticks.

Pure: numbers in, coordinates out; the templates draw them (`supervisor_charts.html`), so
the charts need no script and pass a strict Content-Security-Policy.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 960
HEIGHT = 300
LEFT = 84
"""Room for the value axis labels and the axis title beside them."""
RIGHT = 12
TOP = 12
BOTTOM = 44
"""Room for the category labels."""
BAR_GAP = 0.25
"""The share of each category's slot left empty around its bars."""


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    label: str
    value_text: str


@dataclass(frozen=True)
class Category:
    x: float
    """The middle of the category's slot."""
    label: str


@dataclass(frozen=True)
class Line:
    series: int
    points: str
    """`x,y x,y ...` for an SVG polyline."""
    dots: tuple[tuple[float, float, str], ...]
    """Each point with its label and value, for markers with a tooltip."""


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    top: int
    plot_width: float
    plot_height: float
    ticks: tuple[Tick, ...]
    categories: tuple[Category, ...]
    bars: tuple[Bar, ...] = ()
    lines: tuple[Line, ...] = ()

    @property
    def baseline(self) -> float:
        return self.top + self.plot_height


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten at or above `value` (1 for 0)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power + 1e-12:
            return step * power
    raise AssertionError("10 times the power is always enough")


def whole_step(value: float) -> int:
    """The smallest of 1, 2, 5 times a power of ten at or above `value`, at least 1: a
    tick step for counts, which have no fractions."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return int(step * power)
    raise AssertionError("10 times the power is always enough")


def _format(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


def _decimals_of(step: float, at_least: int) -> int:
    """Enough decimals to write every multiple of `step` exactly (at most 3)."""
    for decimals in range(at_least, 4):
        if abs(round(step, decimals) - step) < 1e-9:
            return decimals
    return 3


def _frame(
    maximum: float, tick_count: int, decimals: int, counts: bool
) -> tuple[float, tuple[Tick, ...]]:
    """The axis top and its ticks; for counts every tick is a whole number (no "0.25
    requests"), so there may be fewer ticks than asked."""
    if counts:
        step: float = whole_step(maximum / tick_count)
        tick_count = max(1, math.ceil(maximum / step))
        top_value = step * tick_count
        decimals = 0
    else:
        top_value = nice_ceiling(maximum)
        step = top_value / tick_count
        decimals = _decimals_of(step, decimals)
    plot_height = HEIGHT - TOP - BOTTOM
    ticks = tuple(
        Tick(
            y=TOP + plot_height - plot_height * i / tick_count,
            label=_format(step * i, decimals),
        )
        for i in range(tick_count + 1)
    )
    return top_value, ticks


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Sequence[float]],
    *,
    maximum: float | None = None,
    decimals: int = 0,
    value_decimals: int | None = None,
    tick_count: int = 4,
    counts: bool = False,
) -> Chart:
    """Grouped bars: one slot per label, one bar per series in it; `counts` for whole
    numbers (whole ticks)."""
    if any(len(values) != len(labels) for values in series):
        raise ValueError("every series needs one value per label")
    highest = max((v for values in series for v in values), default=0.0)
    top_value, ticks = _frame(
        maximum if maximum is not None else highest, tick_count, decimals, counts
    )
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    slot = plot_width / max(1, len(labels))
    bar_width = slot * (1 - BAR_GAP) / max(1, len(series))
    shown = decimals if value_decimals is None else value_decimals
    bars = []
    for s, values in enumerate(series):
        for i, (label, value) in enumerate(zip(labels, values, strict=True)):
            height = plot_height * min(value, top_value) / top_value
            bars.append(
                Bar(
                    x=round(LEFT + slot * i + slot * BAR_GAP / 2 + bar_width * s, 2),
                    y=round(TOP + plot_height - height, 2),
                    width=round(bar_width, 2),
                    height=round(height, 2),
                    series=s,
                    label=label,
                    value_text=_format(value, shown),
                )
            )
    categories = tuple(
        Category(round(LEFT + slot * (i + 0.5), 2), label) for i, label in enumerate(labels)
    )
    return Chart(WIDTH, HEIGHT, LEFT, TOP, plot_width, plot_height, ticks, categories, tuple(bars))


def line_chart(
    labels: Sequence[str],
    series: Sequence[Sequence[float]],
    *,
    decimals: int = 0,
    value_decimals: int | None = None,
    tick_count: int = 4,
    counts: bool = False,
) -> Chart:
    """Lines through one point per label, one line per series; `counts` as for bars."""
    if any(len(values) != len(labels) for values in series):
        raise ValueError("every series needs one value per label")
    highest = max((v for values in series for v in values), default=0.0)
    top_value, ticks = _frame(highest, tick_count, decimals, counts)
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    slot = plot_width / max(1, len(labels))
    shown = decimals if value_decimals is None else value_decimals
    lines = []
    for s, values in enumerate(series):
        dots = tuple(
            (
                round(LEFT + slot * (i + 0.5), 2),
                round(TOP + plot_height - plot_height * value / top_value, 2),
                f"{label}: {_format(value, shown)}",
            )
            for i, (label, value) in enumerate(zip(labels, values, strict=True))
        )
        lines.append(Line(s, " ".join(f"{x},{y}" for x, y, _ in dots), dots))
    categories = tuple(
        Category(round(LEFT + slot * (i + 0.5), 2), label) for i, label in enumerate(labels)
    )
    return Chart(
        WIDTH, HEIGHT, LEFT, TOP, plot_width, plot_height, ticks, categories, lines=tuple(lines)
    )
