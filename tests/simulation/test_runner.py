"""The storm runner as the simulated head-end sees it: which meters are out now."""

import pytest

from grid_topology.model import GridModel
from outage.simulation.client import StormClient
from outage.simulation.runner import StormOptions, StormRunner
from outage.simulation.storm import Fault, StormGrid, generate_storm


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
