"""Cutting feeders out of a grid, on the bundled sample."""

import pytest

from grid_topology.extract import extract_feeders
from grid_topology.geojson import read_grid
from grid_topology.model import GridModel
from grid_topology.topology import Network, Topology
from outage.settings import get_settings


@pytest.fixture(scope="module")
def grid() -> GridModel:
    return read_grid(get_settings().sample_grid)


def test_extract_keeps_the_feeders_customers_energized(grid: GridModel) -> None:
    feeder = grid.feeders[0]
    part = extract_feeders(grid, [feeder.name])
    whole = Topology(Network.from_model(grid)).downstream(feeder.head).accounts
    topology = Topology(Network.from_model(part))
    assert {p.customer.account for p in part.premises} == whole
    assert topology.downstream(feeder.head).accounts == whole


def test_extract_drops_other_feeders(grid: GridModel) -> None:
    part = extract_feeders(grid, [grid.feeders[0].name])
    assert [f.name for f in part.feeders] == [grid.feeders[0].name]
    assert len(part.premises) < len(grid.premises)


def test_extract_rejects_unknown_feeder(grid: GridModel) -> None:
    with pytest.raises(ValueError, match="no such feeders: nope"):
        extract_feeders(grid, ["nope"])
