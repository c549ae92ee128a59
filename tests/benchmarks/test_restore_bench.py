"""The restoration benchmark: its contract, and the arms' order on the sample grid."""

from dataclasses import replace
from typing import Any

import pytest

from benchmarks import restore as bench
from dispatch.travel import GreatCircleTravel
from grid_topology.model import GridModel

CONTRACT = {
    "grid",
    "faults",
    "cmi_repair_only",
    "cmi_with_switching",
    "cmi_upper_bound",
    "reduction",
    "of_upper_bound",
    "solve_p99_s",
}


@pytest.fixture(scope="module")
def figures(sample_grid: GridModel) -> dict[str, Any]:
    grid = bench.Grid.from_model("sample", sample_grid)
    return bench.measure(grid, single=6, multiple=2, progress=lambda *_: None)


def test_the_figures_hold_every_contract_field(figures: dict[str, Any]) -> None:
    assert figures.keys() >= CONTRACT
    assert figures["grid"] == "sample"
    assert figures["scenarios"] == 8
    assert 6 + 2 * 2 <= figures["faults"] <= 6 + 2 * 3


def test_switching_lies_between_repair_only_and_the_upper_bound(figures: dict[str, Any]) -> None:
    assert figures["cmi_upper_bound"] <= figures["cmi_plan_at_once"]
    assert figures["cmi_plan_at_once"] <= figures["cmi_with_switching"]
    assert figures["cmi_with_switching"] < figures["cmi_repair_only"]
    assert 0 < figures["reduction"] < 1
    assert 0 < figures["of_upper_bound"] <= 1
    assert figures["restored_by_switching"] <= figures["refeedable"] <= figures["customers_out"]


def test_the_planner_s_time_is_reported(figures: dict[str, Any]) -> None:
    assert 0 < figures["solve_p50_s"] <= figures["solve_p99_s"] <= figures["solve_max_s"]


@pytest.fixture(scope="module")
def sample(sample_grid: GridModel) -> bench.Grid:
    grid = bench.Grid.from_model("sample", sample_grid)
    grid.topology.sums_below(grid.data.loads)
    return grid


def test_no_plan_beats_the_upper_bound_on_any_fault(sample: bench.Grid) -> None:
    for line in bench.mv_lines(sample.model)[::5]:
        outcome = bench.scenario(sample, [line], GreatCircleTravel())
        assert outcome.cmi_upper_bound <= outcome.cmi_plan_at_once + 1e-6


def test_the_upper_bound_counts_only_what_ratings_leave_room_for(sample: bench.Grid) -> None:
    line = bench.mv_lines(sample.model)[len(bench.mv_lines(sample.model)) // 2]
    roomy = bench.scenario(sample, [line], GreatCircleTravel())
    tight_data = replace(sample.data, ratings=dict.fromkeys(sample.data.ratings, 1.0))
    tight = bench.scenario(replace(sample, data=tight_data), [line], GreatCircleTravel())
    assert roomy.cmi_upper_bound < tight.cmi_upper_bound <= tight.cmi_repair_only
