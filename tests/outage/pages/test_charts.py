"""Chart geometry on its own: round axis tops, bars scaled to them, lines through points."""

import pytest

from outage.pages import charts


@pytest.mark.parametrize(
    ("value", "top"), [(0, 1), (0.8, 1), (1, 1), (1.2, 2), (2.2, 2.5), (3, 5), (7, 10), (420, 500)]
)
def test_the_axis_top_is_a_round_number_at_or_above_the_largest_value(
    value: float, top: float
) -> None:
    assert charts.nice_ceiling(value) == pytest.approx(top)


def test_bars_are_scaled_to_the_axis_and_stand_on_the_baseline() -> None:
    chart = charts.bar_chart(["a", "b", "c"], [[0, 5, 10]])
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 0 and heights[2] == pytest.approx(chart.plot_height)
    assert heights[1] == pytest.approx(chart.plot_height / 2)
    assert all(bar.y + bar.height == pytest.approx(chart.baseline) for bar in chart.bars)
    xs = [bar.x for bar in chart.bars]
    assert xs == sorted(xs) and xs[0] >= chart.left
    assert chart.bars[-1].x + chart.bars[-1].width <= chart.left + chart.plot_width


def test_grouped_bars_sit_side_by_side_within_their_slot() -> None:
    chart = charts.bar_chart(["jan", "feb"], [[1, 2], [3, 4]])
    first, second = (b for b in chart.bars if b.label == "jan")
    assert second.x == pytest.approx(first.x + first.width)
    assert [c.label for c in chart.categories] == ["jan", "feb"]


def test_tick_labels_are_exact_and_distinct() -> None:
    chart = charts.bar_chart(["a"], [[2]])
    labels = [tick.label for tick in chart.ticks]
    assert labels == ["0.0", "0.5", "1.0", "1.5", "2.0"]
    assert len(set(labels)) == len(labels)


def test_a_line_goes_through_one_point_per_label() -> None:
    chart = charts.line_chart(["a", "b", "c"], [[1, 0, 2]], value_decimals=1)
    [line] = chart.lines
    ys = [y for _, y, _ in line.dots]
    assert ys[1] == pytest.approx(chart.baseline) and ys[2] < ys[0] < ys[1]
    assert line.points.count(",") == 3
    assert line.dots[0][2] == "a: 1.0"


def test_a_series_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="one value per label"):
        charts.bar_chart(["a", "b"], [[1]])


@pytest.mark.parametrize(
    ("counts", "labels"),
    [
        ([0], ["0", "1"]),
        ([1], ["0", "1"]),
        ([3], ["0", "1", "2", "3"]),
        ([7], ["0", "2", "4", "6", "8"]),
        ([1385], ["0", "500", "1,000", "1,500"]),
    ],
)
def test_a_count_axis_ticks_whole_numbers_only(counts: list[int], labels: list[str]) -> None:
    chart = charts.bar_chart(["a"], [counts], counts=True)
    assert [tick.label for tick in chart.ticks] == labels


def test_a_count_axis_top_is_its_last_tick() -> None:
    chart = charts.line_chart(["a", "b"], [[7, 2]], counts=True)
    [line] = chart.lines
    top = max(chart.ticks, key=lambda tick: float(tick.label.replace(",", "")))
    assert min(y for _, y, _ in line.dots) > top.y
    assert top.y == pytest.approx(chart.top)
