"""A storm with a transfer against a running `outage serve --role all`: the control room
isolates the first fault, transfers its customers through the tie, tells them, and returns
the network to normal after the repair."""

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from grid_topology.model import GridModel
from outage.cli.demo import _access
from outage.simulation.client import StormClient
from outage.simulation.runner import StormOptions, StormRunner, StormState
from outage.simulation.storm import StormGrid, transfer_site
from outage.simulation.transfer import TransferPlan
from tests.conftest import own_database
from tests.faults.conftest import STORM_ENV, serving

OPTIONS = StormOptions(faults=1, call_rate=0.03, noise=0.0, speed=240.0, transfer=True)
"""One fault, few calls, and a quick clock: the storm lasts well under a minute."""
CREWS = 3
"""Crews to repair the fault and make safe the wires reported down."""


@dataclass(frozen=True)
class Played:
    """A storm played to its end, with what the abnormal list said while it ran."""

    plan: TransferPlan
    state: StormState
    seen: list[dict[str, bool]]
    """`GET /grid/abnormal` every half second: asset_ref -> is_open."""
    dispatcher: httpx.Client


def _abnormal(dispatcher: httpx.Client) -> dict[str, bool]:
    answer = dispatcher.get("/api/v1/grid/abnormal")
    assert answer.status_code == 200, answer.text
    return {device["asset_ref"]: device["is_open"] for device in answer.json()}


@pytest.fixture(scope="module")
def played(
    database_url: str, sample_grid: GridModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Played]:
    grid = StormGrid.from_model(sample_grid)
    plan = transfer_site(grid)
    assert plan is not None
    with own_database(database_url, "transfer", sample_grid) as url:
        access = _access(url, sample_grid, CREWS)
        log = tmp_path_factory.mktemp("transfer") / "serve.log"
        with (
            serving("all", url, STORM_ENV, log) as base,
            httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {access.token}"}
            ) as dispatcher,
        ):
            seen: list[dict[str, bool]] = []

            async def play() -> StormState:
                async with StormClient(base, gateway_key=access.api_key, token=access.token) as c:
                    playing = asyncio.create_task(
                        StormRunner(grid, c, OPTIONS, run_id="transfer").run()
                    )
                    while not playing.done():
                        seen.append(await asyncio.to_thread(_abnormal, dispatcher))
                        await asyncio.sleep(0.5)
                    return await playing

            state = asyncio.run(asyncio.wait_for(play(), timeout=120))
            yield Played(plan, state, seen, dispatcher)


def test_the_tie_carries_the_feeder_during_the_storm_and_all_is_normal_after_the_repair(
    played: Played,
) -> None:
    plan = played.plan
    assert {plan.isolating_switch: True, plan.tie: False} in played.seen, played.state.switching
    assert _abnormal(played.dispatcher) == {}
    assert played.state.switching is not None
    assert played.state.switching.startswith("back to normal")
    assert plan.faulted in played.state.repaired


def test_the_incident_is_restored_by_switching_and_tells_the_transferred_customers(
    played: Played,
) -> None:
    listed = played.dispatcher.get("/api/v1/incidents", params={"limit": 1000}).json()
    at_fault = [
        i for i in listed if (i.get("device") or {}).get("asset_ref") == played.plan.faulted
    ]
    switched: list[dict[str, Any]] = [
        event["details"]
        for incident in at_fault
        for event in played.dispatcher.get(f"/api/v1/incidents/{incident['id']}").json()["events"]
        if event["details"].get("by") == "switching"
    ]
    assert len(switched) == 1, played.state.switching
    assert set(switched[0]["accounts"]) == played.plan.transferred


def test_no_outage_is_inferred_on_the_feeder_that_picked_the_customers_up(
    played: Played, sample_grid: GridModel
) -> None:
    """The transferred customers' calls and gasps tell of an outage that is over for them:
    on the network as switched they must not point at the neighbouring feeder's breaker."""
    others = {f.head for f in sample_grid.feeders} - {played.plan.faulted}
    listed = played.dispatcher.get("/api/v1/incidents", params={"limit": 1000}).json()
    strays = [i for i in listed if (i.get("device") or {}).get("asset_ref") in others]
    assert strays == []
