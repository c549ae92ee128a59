"""A storm with a transfer against a running `outage serve --role all`: the control room
isolates the first fault, transfers its customers through the tie, and returns the network
to normal after the repair."""

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from grid_topology.model import GridModel
from outage.cli.demo import DemoAccess, _access
from outage.simulation.client import StormClient
from outage.simulation.runner import StormOptions, StormRunner, StormState
from outage.simulation.storm import StormGrid, transfer_site
from outage.simulation.transfer import TransferPlan
from tests.conftest import own_database
from tests.faults.conftest import STORM_ENV, serving

OPTIONS = StormOptions(faults=1, call_rate=0.03, noise=0.0, speed=240.0, transfer=True)
"""One fault, few calls, and a quick clock: the test's storm lasts well under a minute."""
CREWS = 3
"""Crews to repair the fault and make safe the wires reported down."""


@pytest.fixture(scope="module")
def served(
    database_url: str, sample_grid: GridModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, DemoAccess]]:
    with own_database(database_url, "transfer", sample_grid) as url:
        access = _access(url, sample_grid, CREWS)
        log = tmp_path_factory.mktemp("transfer") / "serve.log"
        with serving("all", url, STORM_ENV, log) as base:
            yield base, access


def _abnormal(base: str, access: DemoAccess) -> dict[str, bool]:
    answer = httpx.get(
        f"{base}/api/v1/grid/abnormal",
        headers={"Authorization": f"Bearer {access.token}"},
    )
    assert answer.status_code == 200, answer.text
    return {device["asset_ref"]: device["is_open"] for device in answer.json()}


def test_the_control_room_transfers_through_the_tie_and_returns_to_normal_after_the_repair(
    served: tuple[str, DemoAccess], sample_grid: GridModel
) -> None:
    base, access = served
    grid = StormGrid.from_model(sample_grid)
    plan = transfer_site(grid)
    assert plan is not None
    seen: list[dict[str, bool]] = []

    async def play() -> StormState:
        async with StormClient(base, gateway_key=access.api_key, token=access.token) as client:
            runner = StormRunner(grid, client, OPTIONS, run_id="transfer")
            playing = asyncio.create_task(runner.run())
            while not playing.done():
                seen.append(await asyncio.to_thread(_abnormal, base, access))
                await asyncio.sleep(0.5)
            return await playing

    state = asyncio.run(asyncio.wait_for(play(), timeout=120))
    assert _transferred(plan) in seen, state.switching
    assert _abnormal(base, access) == {}
    assert state.switching is not None and state.switching.startswith("back to normal")
    assert plan.faulted in state.repaired
    assert state.unnoticed == 0


def _transferred(plan: TransferPlan) -> dict[str, bool]:
    return {plan.isolating_switch: True, plan.tie: False}
