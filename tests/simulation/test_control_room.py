"""The control room's refusals: written in the summary, ending the switching, nothing after."""

import asyncio
from typing import Any

import pytest

from grid_topology.model import GridModel
from outage.simulation.client import Sent, StormClient
from outage.simulation.storm import StormGrid, switching_site
from outage.simulation.switching import ControlRoom


class StaleNetwork(StormClient):
    """An API with an incident at the feeder head and one plan, whose order it refuses
    because the network changed since; records every request."""

    def __init__(self, head: str) -> None:
        super().__init__("http://127.0.0.1:9")
        self.head = head
        self.requests: list[str] = []

    async def get(self, path: str, **params: Any) -> Sent:
        self.requests.append(f"GET {path}")
        if path == "/incidents":
            return Sent(200, 1, [{"id": 7, "device": {"asset_ref": self.head}}])
        plan = {"rank": 1, "customers_restored": 10, "steps": []}
        return Sent(200, 1, {"plans": [plan], "network_version": {"switch": 1, "structure": 1}})

    async def act(self, incident_id: int, action: str, **fields: Any) -> Sent:
        self.requests.append(f"PATCH {action}")
        return Sent(200, 1, {})

    async def post(self, path: str, body: dict[str, Any]) -> Sent:
        self.requests.append(f"POST {path}")
        return Sent(409, 1, {"detail": "the network changed"})

    async def approve(self, order_path: str) -> Sent:
        raise AssertionError("nothing was ordered: nothing to approve")


async def _never() -> bool:
    raise AssertionError("the incident is there at once")


async def _no_wait(sim_s: float) -> bool:
    return True


async def _nobody(accounts: frozenset[str]) -> None:
    raise AssertionError("nobody was restored")


@pytest.fixture(scope="module")
def grid(sample_grid: GridModel) -> StormGrid:
    return StormGrid.from_model(sample_grid)


def test_a_refused_order_is_noted_and_ends_the_switching(grid: StormGrid) -> None:
    site = switching_site(grid)
    assert site is not None
    client = StaleNetwork(site.tripped)
    room = ControlRoom(client, site, grid)

    async def switch() -> bool:
        done = await room.restore(_never, _no_wait, lambda: False, _nobody)
        await room.back_to_normal(_no_wait)
        return done

    assert not asyncio.run(switch())
    assert room.note == "ordering plan 1 refused (409: the network changed)"
    assert client.requests == [
        "GET /incidents",
        "PATCH move",
        "GET /incidents/7/restoration-plans",
        "POST /incidents/7/restoration-plans/1/order",
    ]
