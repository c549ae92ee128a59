"""A database of its own for the switching tests: they change the network's state."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Network, Topology
from tests.conftest import own_database


@pytest.fixture(scope="module")
def switching_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "switching", sample_grid) as url:
        yield url


@dataclass(frozen=True)
class Transfer:
    """A feeder's head and a normally-open tie to a neighbouring feeder."""

    head: str
    tie: str
    neighbour_head: str


@pytest.fixture(scope="session")
def transfer(sample_grid: GridModel) -> Transfer:
    topology = Topology(Network.from_model(sample_grid))
    owner = topology.nearest_upstream([f.head for f in sample_grid.feeders]).nodes
    for device in sample_grid.devices:
        if not device.is_open or device.kind not in (DeviceKind.SWITCH, DeviceKind.DISCONNECTOR):
            continue
        a, b = owner.get(device.from_node), owner.get(device.to_node)
        if a is not None and b is not None and a != b:
            return Transfer(head=a, tie=device.asset_ref, neighbour_head=b)
    raise AssertionError("the sample grid has no tie between two feeders")
