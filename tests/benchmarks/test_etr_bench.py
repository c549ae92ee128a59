"""The restoration-time benchmark: its contract, and what the service's rules promise."""

from datetime import UTC, datetime
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


def _fault(cause: str, median_s: float) -> bench.Fault:
    return bench.Fault(
        id=1,
        kind="fuse",
        asset_ref="F1",
        location=(0.0, 0.0),
        customers=1,
        cause=cause,
        occurs_at=datetime(2026, 3, 2, tzinfo=UTC),
        detected_at=datetime(2026, 3, 2, tzinfo=UTC),
        on_site_s=median_s,
        median_on_site_s=median_s,
        travel_factor=1.0,
    )


def test_the_truth_on_arrival_is_the_repairs_own_median() -> None:
    assert _fault("animal", 3000.0).true_median_s(0.0) == pytest.approx(3000.0)


def test_the_truth_after_time_on_site_is_later_the_longer_the_crew_has_been_there() -> None:
    fault = _fault("animal", 3000.0)
    medians = [fault.true_median_s(s) for s in (600.0, 3000.0, 9000.0)]
    assert 3000.0 < medians[0] < medians[1] < medians[2]
    assert medians[2] > 9000.0


def test_the_truth_before_arrival_mixes_the_causes_between_the_fastest_and_slowest() -> None:
    fault = _fault("unknown", 3000.0)
    factors = [factor for _, factor in bench.CAUSES.values()]
    mixed = fault.true_median_s(None)
    assert 3000.0 * min(factors) < mixed < 3000.0 * max(factors)
    assert mixed == pytest.approx(_fault("animal", 3000.0 * 0.7).true_median_s(None))
