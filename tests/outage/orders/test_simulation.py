"""The check of an order, on the sample grid's topology: no database."""

import pytest

from grid_topology.model import GridModel
from grid_topology.topology import Network, Topology
from outage.orders.enums import StepAction
from outage.orders.simulation import PlannedStep, simulate

from .conftest import Feeders

OPEN, CLOSE, VERIFY = StepAction.OPEN, StepAction.CLOSE, StepAction.VERIFY


@pytest.fixture(scope="module")
def topology(sample_grid: GridModel) -> Topology:
    return Topology(Network.from_model(sample_grid))


def _steps(*steps: tuple[StepAction, str]) -> list[PlannedStep]:
    return [PlannedStep(i, action, ref) for i, (action, ref) in enumerate(steps, start=1)]


def test_opening_a_feeder_head_interrupts_its_customers(
    topology: Topology, feeders: Feeders
) -> None:
    customers = len(topology.downstream(feeders.head).accounts)
    result = simulate(topology, _steps((OPEN, feeders.head)), allow_loops=False)
    assert customers > 0
    assert (result.steps[0].losing, result.interrupted) == (customers, customers)
    assert result.without_supply_after == customers and not result.refusals


def test_closing_it_again_restores_them_and_nets_to_nothing(
    topology: Topology, feeders: Feeders
) -> None:
    steps = _steps((OPEN, feeders.head), (CLOSE, feeders.head))
    result = simulate(topology, steps, allow_loops=False)
    assert result.steps[1].regaining == result.interrupted > 0
    assert (result.without_supply_after, result.supplied_after) == (0, 0)


def test_a_transfer_through_the_tie_restores_the_feeder_from_its_neighbour(
    topology: Topology, feeders: Feeders
) -> None:
    steps = _steps((OPEN, feeders.head), (CLOSE, feeders.tie))
    result = simulate(topology, steps, allow_loops=False)
    assert result.restored == result.interrupted > 0
    assert result.without_supply_after == 0 and not result.loops


def test_closing_the_tie_between_two_energised_feeders_is_a_refused_loop(
    topology: Topology, feeders: Feeders
) -> None:
    result = simulate(topology, _steps((CLOSE, feeders.tie)), allow_loops=False)
    assert result.loops == (1,)
    assert "loop" in result.refusals[0] and feeders.tie in result.refusals[0]


def test_a_loop_is_reported_but_not_refused_when_allowed(
    topology: Topology, feeders: Feeders
) -> None:
    steps = _steps((CLOSE, feeders.tie), (OPEN, feeders.head))
    result = simulate(topology, steps, allow_loops=True)
    assert result.loops == (1,) and not result.refusals
    assert result.interrupted == 0


def test_critical_customers_losing_supply_are_named(topology: Topology, feeders: Feeders) -> None:
    account = sorted(topology.downstream(feeders.head).accounts)[0]
    result = simulate(
        topology, _steps((OPEN, feeders.head)), allow_loops=False, critical=frozenset({account})
    )
    assert result.critical == (account,) and result.steps[0].critical == (account,)


def test_a_hazard_in_the_area_losing_supply_is_named(topology: Topology, feeders: Feeders) -> None:
    node = sorted(topology.downstream(feeders.head).nodes)[0]
    hazards = {7: frozenset({node}), 8: frozenset({"somewhere else"})}
    result = simulate(topology, _steps((OPEN, feeders.head)), allow_loops=False, hazards=hazards)
    assert result.hazards == (7,)


def test_a_verify_step_changes_nothing(topology: Topology, feeders: Feeders) -> None:
    result = simulate(topology, _steps((VERIFY, feeders.head)), allow_loops=False)
    assert not result.steps[0].changes and result.interrupted == 0
