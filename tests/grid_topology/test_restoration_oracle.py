"""Restoration plans on SimBench grids against brute force and a pandapower power flow.

On the MV urban grid (11 ties) the planner, kept from cutting islands, must bring back
exactly as many customers as the best subset of ties; cutting may only add. Each plan's
end state is also checked in pandapower: the customers it leaves out are those pandapower
finds unsupplied, no loop is closed, no line or transformer goes above 100 %. Timing on the
larger MV+LV urban grid is `outage bench restore`'s.
"""

import random
from typing import Any

import pytest

from grid_topology.model import GridModel
from grid_topology.restoration import GridData, Incident, Options, plan_restoration
from grid_topology.topology import Network, Topology

pytest.importorskip("pandapower")
pytest.importorskip("simbench")

from benchmarks.restore import incident_at, mv_lines
from tests.grid_topology.restoration_oracle import brute_force, power_flow

pytestmark = pytest.mark.simbench
SINGLE, DOUBLE = 16, 8
"""Faults drawn (seeded) on each grid: on one MV line, and on two at once."""


def _grid(code: str) -> tuple[Any, GridModel, Topology, GridData]:
    from grid_topology.simbench import from_pandapower, load_simbench_net

    net = load_simbench_net(code)
    model = from_pandapower(net)
    return net, model, Topology(Network.from_model(model)), GridData.from_model(model)


def _incidents(model: GridModel, topology: Topology, single: int, double: int) -> list[Incident]:
    rng = random.Random(0)
    lines = mv_lines(model)
    return [incident_at(topology, [line]) for line in rng.sample(lines, single)] + [
        incident_at(topology, rng.sample(lines, 2)) for _ in range(double)
    ]


@pytest.fixture(scope="module")
def mv() -> tuple[Any, GridModel, Topology, GridData]:
    return _grid("1-MV-urban--0-sw")


def test_plans_restore_as_many_as_the_best_set_of_ties(
    mv: tuple[Any, GridModel, Topology, GridData],
) -> None:
    _, model, topology, data = mv
    wrong = []
    for incident in _incidents(model, topology, SINGLE, DOUBLE):
        best = brute_force(topology, incident, data, margin=1.0)
        [uncut] = plan_restoration(topology, incident, data, Options(max_cuts=0, plans=1))
        [cut] = plan_restoration(topology, incident, data, Options(plans=1))
        if len(uncut.restored) != best.restored or len(cut.restored) < best.restored:
            wrong.append((incident, best.restored, len(uncut.restored), len(cut.restored)))
    assert wrong == []


def test_plans_hold_in_a_power_flow(mv: tuple[Any, GridModel, Topology, GridData]) -> None:
    net, model, topology, data = mv
    for incident in _incidents(model, topology, SINGLE, DOUBLE):
        plan = plan_restoration(topology, incident, data)[0]
        flow = power_flow(net, incident, plan)
        assert plan.radial
        assert flow.new_loops == 0
        assert flow.unsupplied == plan.unsupplied
        assert flow.max_line_loading <= 100 and flow.max_trafo_loading <= 100


def test_simbench_ratings_loads_and_remote_switches(
    mv: tuple[Any, GridModel, Topology, GridData],
) -> None:
    net, model, _, data = mv
    line = net.line.iloc[0]
    assert data.ratings[line["name"]] == pytest.approx(3**0.5 * 10 * line.max_i_ka * 1000)
    assert sum(data.loads.values()).real == pytest.approx(net.load.p_mw.sum() * 1000)
    ties = {d.asset_ref for d in model.devices if d.normal_open and d.kind == "switch"}
    assert ties and ties <= data.remote
