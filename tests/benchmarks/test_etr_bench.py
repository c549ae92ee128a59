"""The restoration-time benchmark: its contract, and what the service's rules promise."""

from typing import Any

import pytest

from benchmarks import etr as bench
from grid_topology.model import GridModel

CONTRACT = {
    "incidents",
    "first_mae_min",
    "onsite_mae_min",
    "p80_coverage",
    "lapsed",
    "informed_15min",
}


@pytest.fixture(scope="module")
def tallies(sample_grid: GridModel) -> dict[str, bench.Tally]:
    grid = bench.GridFaults.of("sample", sample_grid)
    history = ((bench.BLUE_SKY, 6), (bench.STORM, 1))
    measured = ((bench.BLUE_SKY, 2), (bench.STORM, 1))
    return bench.measure(grid, history, measured, lambda *_: None)


@pytest.fixture(scope="module")
def storm(tallies: dict[str, bench.Tally]) -> dict[str, Any]:
    return tallies[bench.STORM.name].figures()


def test_the_figures_hold_every_contract_field(tallies: dict[str, bench.Tally]) -> None:
    for tally in tallies.values():
        assert tally.figures().keys() >= CONTRACT
    assert set(tallies) == {bench.BLUE_SKY.name, bench.STORM.name}


def test_every_fault_is_restored_and_counted(storm: dict[str, Any]) -> None:
    assert bench.STORM.faults[0] <= storm["incidents"] <= bench.STORM.faults[1]


def test_no_customer_sees_a_told_time_pass_in_silence(storm: dict[str, Any]) -> None:
    assert storm["lapsed"] == 0


def test_customers_hear_an_etr_within_a_quarter_of_an_hour(storm: dict[str, Any]) -> None:
    assert storm["informed_15min"] >= 0.99


def test_estimates_are_of_something_and_the_range_covers_some(storm: dict[str, Any]) -> None:
    assert storm["first_mae_min"] > 0 and storm["onsite_mae_min"] > 0
    assert 0 < storm["p80_coverage"] < 1
