"""A database of its own for the switching orders' tests (they operate devices), the
sample grid's two feeders with the tie between them, and orders taken through their life
over the API."""

from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import pytest
from fastapi.testclient import TestClient

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Network, Topology
from outage.app import create_app
from outage.auth.enums import Role
from outage.notifications.sink import HttpSink
from outage.settings import get_settings
from tests.conftest import Credentials, own_database
from tests.outage import database_per_module

ORDERS = "/api/v1/switching/orders"
"""Where switching orders live in the API."""


def ok(response: Any, status: int = HTTPStatus.OK) -> dict[str, Any]:
    """The answer's body, once it is sure the answer is `status`."""
    assert response.status_code == status, response.text
    answer: dict[str, Any] = response.json()
    return answer


@dataclass(frozen=True)
class Orders:
    """Orders taken through their life over the API: the dispatcher drafts, starts and
    carries out steps, the supervisor approves. Each answer must be a success."""

    client: TestClient
    credentials: Credentials

    def draft(self, *steps: tuple[str, str], **extra: Any) -> dict[str, Any]:
        """An order of these (action, asset_ref) steps; `extra` fields go with them."""
        body = {
            "title": "test order",
            "steps": [{"action": a, "asset_ref": ref} for a, ref in steps],
            **extra,
        }
        return ok(self._post(ORDERS, body=body), HTTPStatus.CREATED)

    def approve(self, order: dict[str, Any]) -> dict[str, Any]:
        return ok(self._post(f"{ORDERS}/{order['id']}/approve", Role.SUPERVISOR))

    def started(self, *steps: tuple[str, str], **extra: Any) -> dict[str, Any]:
        """Drafted, approved and started."""
        order = self.approve(self.draft(*steps, **extra))
        return ok(self._post(f"{ORDERS}/{order['id']}/start"))

    def carried_out(self, *steps: tuple[str, str], **extra: Any) -> dict[str, Any]:
        """Started, then every step carried out in turn."""
        order = self.started(*steps, **extra)
        for position in range(1, len(steps) + 1):
            order = ok(self._post(f"{ORDERS}/{order['id']}/steps/{position}/execute"))
        return order

    def abort(self, order: dict[str, Any]) -> dict[str, Any]:
        return ok(self._post(f"{ORDERS}/{order['id']}/abort"))

    def _post(
        self, path: str, role: Role = Role.DISPATCHER, body: dict[str, Any] | None = None
    ) -> Any:
        return self.client.post(path, json=body, headers=self.credentials.staff(role))


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
def module_database(orders_database: str) -> str:
    """The database of `client` and `credentials`."""
    return orders_database


client = database_per_module.client
credentials = database_per_module.credentials


@pytest.fixture(scope="module")
def orders(client: TestClient, credentials: Credentials) -> Orders:
    """Orders of the module's database, made over its API client."""
    return Orders(client, credentials)


@pytest.fixture(scope="module")
def scada_client(orders_database: str, sink: HttpSink) -> Iterator[TestClient]:
    """The API with steps sent to SCADA (`sink`, SCADA's command endpoint: it takes every
    command and keeps it by its id)."""
    settings = get_settings().model_copy(update={"scada_command_url": f"{sink.url}/commands"})
    with TestClient(create_app(orders_database, settings)) as scada_client:
        yield scada_client
