"""A storm played against a running `outage serve --role all`, its crews following the
dispatch plan, then replayed by the after-action replay over HTTP: with the recorded crews
and their recorded decisions it gives back the recorded customer-minutes."""

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from grid_topology.model import GridModel
from outage.cli.demo import stage_access
from outage.clock import Clock
from outage.simulation.client import StormClient
from outage.simulation.runner import StormOptions, StormRunner, StormState
from outage.simulation.storm import StormGrid
from tests.conftest import own_database
from tests.faults.conftest import STORM_ENV, serving

SPEED = 240.0
OPTIONS = StormOptions(faults=5, call_rate=0.2, noise=0.05, seed=3, speed=SPEED)
"""Five faults, a few calls each, on a clock four minutes a second: about a minute."""
CREWS = 2
"""Fewer crews than faults: some outages wait, so who goes where matters."""
REPLAY = "/api/v1/after-action/replay"


@dataclass(frozen=True)
class Played:
    state: StormState
    supervisor: httpx.Client
    period: dict[str, str]


@pytest.fixture(scope="module")
def played(
    database_url: str, sample_grid: GridModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Played]:
    dates = Clock(epoch=datetime.now().astimezone().replace(microsecond=0), speed=SPEED)
    with own_database(database_url, "storm_replay", sample_grid) as url:
        access = stage_access(url, sample_grid, CREWS, dates)
        log = tmp_path_factory.mktemp("storm_replay") / "serve.log"
        env = {**STORM_ENV, **dates.environment(), "OUTAGE_DISPATCH_TIME_LIMIT_S": "1"}
        with (
            serving("all", url, env, log) as base,
            httpx.Client(
                base_url=base,
                headers={"Authorization": f"Bearer {access.approver_token}"},
                timeout=60,
            ) as supervisor,
        ):
            start = dates.now()

            async def play() -> StormState:
                async with StormClient(base, gateway_key=access.api_key, token=access.token) as c:
                    grid = StormGrid.from_model(sample_grid)
                    return await StormRunner(grid, c, OPTIONS, run_id="replay", dates=dates).run()

            state = asyncio.run(asyncio.wait_for(play(), timeout=240))
            period = {"start": start.isoformat(), "end": dates.now().isoformat()}
            yield Played(state, supervisor, period)


def _replay(played: Played, **options: Any) -> dict[str, Any]:
    answer = played.supervisor.get(REPLAY, params={**played.period, **options})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_the_storm_kept_customers_out_and_its_crews_restored_them(played: Played) -> None:
    body = _replay(played)
    assert len(played.state.repaired) == OPTIONS.faults
    assert body["recorded_customer_minutes"] > 0
    assert len({job["recorded_crew_id"] for job in body["jobs"]}) == CREWS


def test_the_replay_with_the_recorded_crews_gives_back_the_customer_minutes(
    played: Played,
) -> None:
    body = _replay(played)
    assert body["crews"] == body["recorded_crews"] == CREWS
    assert abs(body["change"]) <= 0.01, body


def test_the_replay_with_no_crews_leaves_every_crews_outage_on(played: Played) -> None:
    body = _replay(played, crews=0)
    assert all(job["replayed_at"] is None for job in body["jobs"])
    assert body["customer_minutes"] > body["recorded_customer_minutes"]


def test_the_planners_rule_replays_every_job_with_the_recorded_crews(played: Played) -> None:
    body = _replay(played, policy="planner")
    assert all(job["replayed_at"] is not None for job in body["jobs"])
    assert body["customer_minutes"] > 0
