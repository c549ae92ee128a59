"""The storm loop: what it posts is dated by a scaled clock, and which meters are out now,
as the simulated head-end sees it."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from grid_topology.model import GridModel
from outage.clock import Clock
from outage.simulation.client import Sent, StormClient
from outage.simulation.runner import StormOptions, StormRunner
from outage.simulation.storm import Contact, Fault, Reporter, StormGrid, generate_storm

SPEED = 1000.0
"""The fastest clock there is: the storm lasts a few wall seconds."""
OPTIONS = StormOptions(faults=2, call_rate=0.0, noise=0.0, speed=SPEED, crews=False)


class Head(StormClient):
    """A meter head-end that notes the times it is given; nobody calls."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9", gateway_key="key")
        self.dated: list[datetime] = []

    async def meter_events(self, meters: list[str], event: str, at: datetime) -> Sent:
        self.dated.append(at)
        return Sent(200, 1, {"accepted": len(meters)})

    async def report(self, contact: Contact, reporter: Reporter) -> Sent:
        raise AssertionError("nobody calls")

    async def get(self, path: str, **params: Any) -> Sent:
        return Sent(200, 1, [])


def test_last_gasps_are_dated_by_the_storms_scaled_clock(sample_grid: GridModel) -> None:
    scaled = Clock(datetime.now(UTC) - timedelta(minutes=1), SPEED)  # 1000 minutes ahead
    head = Head()
    runner = StormRunner(
        StormGrid.from_model(sample_grid), head, OPTIONS, run_id="dated", dates=scaled
    )
    started = datetime.now(UTC)
    state = asyncio.run(asyncio.wait_for(runner.run(), timeout=60))
    assert state.gasps > 0
    assert all(scaled.at(started) <= at <= scaled.now() for at in head.dated)


def test_a_storm_at_another_speed_than_its_clock_is_refused(sample_grid: GridModel) -> None:
    with pytest.raises(ValueError, match="same speed"):
        StormRunner(
            StormGrid.from_model(sample_grid),
            Head(),
            OPTIONS,
            run_id="refused",
            dates=Clock(datetime.now(UTC), 30),
        )


@pytest.fixture(scope="module")
def grid(sample_grid: GridModel) -> StormGrid:
    return StormGrid.from_model(sample_grid)


@pytest.fixture
def runner(grid: StormGrid) -> StormRunner:
    options = StormOptions(crews=False)
    return StormRunner(grid, StormClient("http://127.0.0.1:9"), options, run_id="t")


@pytest.fixture
def fault(grid: StormGrid) -> Fault:
    return generate_storm(grid, faults=1, call_rate=0.0, seed=3, run_id="t").faults[0]


def _metered(grid: StormGrid, fault: Fault) -> tuple[str, str]:
    """A customer of the fault with a meter, and the meter."""
    account = next(a for a in sorted(fault.accounts) if grid.reporters[a].meter_id)
    return account, grid.meters(frozenset({account}))[0]


def test_a_meter_is_off_while_its_fault_is_not_repaired(
    grid: StormGrid, runner: StormRunner, fault: Fault
) -> None:
    runner.state.faults.append(fault)
    assert runner.meter_off(_metered(grid, fault)[1])


def test_a_meter_is_on_once_its_fault_is_repaired(
    grid: StormGrid, runner: StormRunner, fault: Fault
) -> None:
    runner.state.faults.append(fault)
    runner.state.repaired.add(fault.device)
    assert not runner.meter_off(_metered(grid, fault)[1])


def test_a_meter_is_on_once_switching_restored_its_customer(
    grid: StormGrid, runner: StormRunner, fault: Fault
) -> None:
    runner.state.faults.append(fault)
    account, meter = _metered(grid, fault)
    runner.state.switched.add(account)
    assert not runner.meter_off(meter)
