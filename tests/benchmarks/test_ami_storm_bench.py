"""The last-gasp storm, at CI size: every gasp stored, and the engine's incidents right."""

import random
from typing import Any

import pytest

from benchmarks import ami_storm, scale
from grid_topology.model import GridModel
from grid_topology.topology import Network, Topology

FIELDS = {
    "storm_customers",
    "storm_faults",
    "storm_gasps",
    "storm_events_per_s",
    "storm_stored_s",
    "storm_stored_goal_s",
    "storm_stored_goal_met",
    "storm_incidents_right_s",
    "storm_incidents_goal_s",
    "storm_incidents_goal_met",
    "storm_incidents_right",
    "storm_incidents_missing",
    "storm_incidents_wrong",
    "storm_engine_rss_mb",
}


@pytest.fixture(scope="module")
def result(database_url: str) -> dict[str, Any]:
    return ami_storm.run(database_url, quick=True, progress=lambda *stage: None, batch=1000)


def test_the_quick_run_reports_every_field(result: dict[str, Any]) -> None:
    assert result.keys() >= FIELDS
    assert result["storm_customers"] == round(ami_storm.QUICK_CUSTOMERS / 1591) * 1591
    assert result["storm_batches"] > 1
    assert result["storm_engine_rss_mb"] > 0


def test_every_gasp_of_the_storm_is_stored(result: dict[str, Any]) -> None:
    assert result["storm_errors"] == 0
    assert result["storm_accepted"] == result["storm_gasps"]
    assert result["storm_gasps"] >= ami_storm.OUT_SHARE * result["storm_customers"]


def test_the_incidents_match_the_injected_faults(result: dict[str, Any]) -> None:
    assert result["storm_incidents_right"] == result["storm_faults"]
    assert result["storm_incidents_missing"] == result["storm_incidents_wrong"] == 0
    assert result["storm_incidents_right_s"] is not None


def test_the_goals_agree_with_the_figures(result: dict[str, Any]) -> None:
    stored = result["storm_stored_s"] <= result["storm_stored_goal_s"]
    right_s = result["storm_incidents_right_s"]
    right = right_s is not None and right_s <= result["storm_incidents_goal_s"]
    assert result["storm_stored_goal_met"] is stored
    assert result["storm_incidents_goal_met"] is right


def test_faults_trip_whole_feeders_and_one_smaller_device_in_each_other(
    sample_grid: GridModel,
) -> None:
    topology = Topology(Network.from_model(scale.tiled(sample_grid, 4)))
    faults = ami_storm.storm_faults(topology, random.Random(0), 2000)
    links = topology.network.links

    def feeder(ref: str) -> str:
        above = [d for d in topology.upstream(ref).devices if links[d].is_protective]
        return above[-1] if above else ref

    whole = [f for f in faults if f.accounts == topology.downstream(feeder(f.device)).accounts]
    assert sum(len(f.accounts) for f in whole) >= 2000
    assert len({feeder(f.device) for f in faults}) == len(faults) == 2 * 4
    assert len(whole) < len(faults)
