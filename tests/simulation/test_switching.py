"""A storm with switching against a running `outage serve --role all` and the field's
SCADA: the control room restores around the first fault by the service's best plan, over
HTTP, before the repair, and returns the network to normal after it."""

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from grid_topology.model import GridModel
from outage.cli.demo import stage_access
from outage.clock import Clock
from outage.simulation.client import StormClient
from outage.simulation.runner import StormOptions, StormRunner, StormState
from outage.simulation.scada import ScadaField, poster
from outage.simulation.storm import StormGrid, SwitchingSite, switching_site
from tests.conftest import own_database
from tests.faults.conftest import STORM_ENV, serving

OPTIONS = StormOptions(faults=1, call_rate=0.03, noise=0.0, speed=240.0, switching=True)
"""One fault, few calls, and a quick clock: the storm lasts about a minute."""
CREWS = 3
"""Crews to repair the fault and make safe the wires reported down."""


@dataclass(frozen=True)
class Played:
    site: SwitchingSite
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
    site = switching_site(grid)
    assert site is not None
    with own_database(database_url, "switching", sample_grid) as url:
        access = stage_access(url, sample_grid, CREWS, Clock())
        log = tmp_path_factory.mktemp("switching") / "serve.log"
        server: dict[str, str] = {}

        def report(event: dict[str, Any]) -> None:
            poster(server["url"], access.api_key)(event)

        with ScadaField(report, delay_s=0.2) as scada:
            env = {**STORM_ENV, "OUTAGE_SCADA_COMMAND_URL": scada.url}
            with (
                serving("all", url, env, log) as base,
                httpx.Client(
                    base_url=base, headers={"Authorization": f"Bearer {access.token}"}
                ) as dispatcher,
            ):
                server["url"] = base
                seen: list[dict[str, bool]] = []

                async def play() -> StormState:
                    async with StormClient(
                        base,
                        gateway_key=access.api_key,
                        token=access.token,
                        approver_token=access.approver_token,
                    ) as c:
                        playing = asyncio.create_task(
                            StormRunner(grid, c, OPTIONS, run_id="switching").run()
                        )
                        while not playing.done():
                            seen.append(await asyncio.to_thread(_abnormal, dispatcher))
                            await asyncio.sleep(0.5)
                        return await playing

                state = asyncio.run(asyncio.wait_for(play(), timeout=180))
                yield Played(site, state, seen, dispatcher)


def test_a_fault_with_a_tie_is_restored_by_switching_before_its_repair(played: Played) -> None:
    """Nearly all the feeder: a section with wires reported down stays dead."""
    restored = played.state.restored_by_switching
    assert 0.9 * len(played.site.restorable) <= restored <= len(played.site.restorable), (
        played.state.switching
    )
    assert played.state.minutes_saved > 0
    assert played.site.tripped in played.state.repaired


def test_the_plan_is_ordered_approved_by_a_second_person_and_completed(played: Played) -> None:
    orders = played.dispatcher.get("/api/v1/switching/orders").json()
    [restoring] = [o for o in orders if o["incident_id"] is not None]
    assert restoring["state"] == "completed"
    assert restoring["approved_by"] not in (None, restoring["created_by"])
    assert all(step["state"] == "done" for step in restoring["steps"])


def test_the_network_was_switched_during_the_storm_and_is_normal_after_the_repair(
    played: Played,
) -> None:
    assert any(played.seen), played.state.switching
    assert _abnormal(played.dispatcher) == {}
    assert played.state.switching is not None
    assert played.state.switching.startswith("back to normal"), played.state.switching


def test_the_customers_fed_again_are_told_by_the_incident_restored_by_switching(
    played: Played,
) -> None:
    listed = played.dispatcher.get("/api/v1/incidents", params={"limit": 1000}).json()
    at_fault = [i for i in listed if (i.get("device") or {}).get("asset_ref") == played.site.line]
    switched = {
        account
        for incident in at_fault
        for event in played.dispatcher.get(f"/api/v1/incidents/{incident['id']}").json()["events"]
        if event["details"].get("by") == "switching"
        for account in event["details"].get("accounts", ())
    }
    assert switched, played.state.switching
    assert switched <= played.site.restorable
