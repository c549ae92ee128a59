"""A database of its own for the switching orders' tests (they operate devices), and the
sample grid's two feeders with the tie between them."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Network, Topology
from outage.app import create_app
from outage.notifications.sink import HttpSink, running_sink
from outage.settings import get_settings
from tests.conftest import Credentials, issue_credentials, own_database

ORDERS = "/api/v1/switching/orders"
"""Where switching orders live in the API."""


@dataclass(frozen=True)
class Feeders:
    """A feeder's head, a normally-open tie to its neighbour, and the neighbour's head."""

    head: str
    tie: str
    neighbour_head: str
    section: str
    """The switch nearest the tie between it and the head: opening it isolates the part
    of the feeder the tie can feed."""


@pytest.fixture(scope="session")
def feeders(sample_grid: GridModel) -> Feeders:
    topology = Topology(Network.from_model(sample_grid))
    owner = topology.nearest_upstream([f.head for f in sample_grid.feeders]).nodes
    for device in sample_grid.devices:
        if not device.is_open or device.kind not in (DeviceKind.SWITCH, DeviceKind.DISCONNECTOR):
            continue
        a, b = owner.get(device.from_node), owner.get(device.to_node)
        if a is not None and b is not None and a != b:
            side = device.from_node if a == owner[device.from_node] else device.to_node
            links = topology.network.links
            section = next(
                ref
                for ref in topology.upstream_of_node(side).devices
                if links[ref].kind is DeviceKind.SWITCH and ref != a
            )
            return Feeders(head=a, tie=device.asset_ref, neighbour_head=b, section=section)
    raise AssertionError("the sample grid has no tie between two feeders")


@pytest.fixture(scope="session")
def switches(sample_grid: GridModel, feeders: Feeders) -> list[str]:
    """Closed switches that are neither feeder head: a test module takes each of its tests
    its own, since the module's tests share one database."""
    heads = {feeders.head, feeders.neighbour_head}
    return [
        d.asset_ref
        for d in sample_grid.devices
        if d.kind is DeviceKind.SWITCH and not d.is_open and d.asset_ref not in heads
    ]


@pytest.fixture(scope="module")
def orders_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "orders", sample_grid) as url:
        yield url


@pytest.fixture(scope="module")
def credentials(orders_database: str) -> Credentials:
    return issue_credentials(orders_database)


@pytest.fixture(scope="module")
def client(orders_database: str) -> Iterator[TestClient]:
    with TestClient(create_app(orders_database)) as client:
        yield client


@pytest.fixture(scope="module")
def sink() -> Iterator[HttpSink]:
    """SCADA's command endpoint: takes every command and keeps it by its id."""
    with running_sink() as sink:
        yield sink


@pytest.fixture(scope="module")
def scada_client(orders_database: str, sink: HttpSink) -> Iterator[TestClient]:
    """The API with steps sent to SCADA (`sink`)."""
    settings = get_settings().model_copy(update={"scada_command_url": f"{sink.url}/commands"})
    with TestClient(create_app(orders_database, settings)) as client:
        yield client
