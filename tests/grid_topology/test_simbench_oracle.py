"""Our downstream traces against pandapower's own topology, on a real SimBench grid.

For every protective device, the customers we say lose supply when it opens must be
exactly the loads on the buses pandapower reports unsupplied with that device open; and so
they must stay through random switching applied step by step with `Topology.switched`.
Random re-import edits applied with `Topology.edited` must answer as a topology built
afresh from the edited grid.
"""

import random
from contextlib import AbstractContextManager
from typing import Any

import pytest

from grid_topology.model import SWITCHING_KINDS, DeviceKind, GridModel
from grid_topology.topology import Network, Topology

pytest.importorskip("pandapower")
pytest.importorskip("simbench")

from tests.grid_topology.edits import answers, applied, random_edit
from tests.grid_topology.oracle import Oracle

CODE = "1-MVLV-urban-all-0-sw"
SEEDS = (0, 1, 2)
STEPS = 8
SAMPLE = 15
"""Closed devices traced against pandapower after each step."""
pytestmark = pytest.mark.simbench


@pytest.fixture(scope="module")
def net() -> Any:
    from grid_topology.simbench import load_simbench_net

    return load_simbench_net(CODE)


@pytest.fixture(scope="module")
def model(net: Any) -> GridModel:
    from grid_topology.simbench import from_pandapower

    return from_pandapower(net)


def _mismatches(network: Network, oracle: Oracle) -> list[str]:
    topology = Topology(network)
    wrong = []
    for link in network.links.values():
        if not link.is_protective:
            continue
        expected = oracle.unsupplied_accounts(opening=link.asset_ref)
        if topology.downstream(link.asset_ref).accounts != expected:
            wrong.append(link.asset_ref)
    return wrong


def test_every_protective_device_traces_like_pandapower(net: Any, model: GridModel) -> None:
    network = Network.from_model(model)
    assert sum(link.is_protective for link in network.links.values()) > 800
    assert _mismatches(network, Oracle(net)) == []


def test_traces_follow_a_switching_change(net: Any, model: GridModel) -> None:
    """Open a feeder's breaker and close a tie to another feeder: the load moves across."""
    network = Network.from_model(model)
    topology = Topology(network)
    owners = topology.nearest_upstream([f.head for f in model.feeders]).nodes
    tie = next(
        link
        for link in network.links.values()
        if link.is_open
        and link.kind is DeviceKind.SWITCH
        and owners.get(link.from_node) not in (None, owners.get(link.to_node))
        and owners.get(link.to_node) is not None
    )
    opened = owners[tie.from_node]
    moved = topology.downstream(opened).accounts
    switched = network.switched(open_=[opened], close=[tie.asset_ref])
    oracle = Oracle(net)
    with oracle.switched([opened], close=[tie.asset_ref]):
        assert oracle.unsupplied_accounts() == set()
        assert _mismatches(switched, oracle) == []
    assert moved <= Topology(switched).downstream(owners[tie.to_node]).accounts


class Walk:
    """Random switching steps applied one after the other with `Topology.switched`.

    Each step opens one closed switchable device, of a kind drawn first so that breakers and
    fuses come up as often as the far more numerous switches, and closes one open device (a
    normally open tie, or one an earlier step opened), which may loop two fed feeders.
    """

    def __init__(self, network: Network, seed: int) -> None:
        self.initial = network
        self.topology = Topology(network)
        self.topology.customer_counts()  # carried across the steps from here on
        self.rng = random.Random(seed)
        self.changed: dict[str, bool] = {}
        """asset_ref -> is_open, for the devices not in their initial state."""
        self.switchable = sorted(
            asset_ref for asset_ref, link in network.links.items() if link.kind in SWITCHING_KINDS
        )

    def step(self) -> None:
        links = self.topology.network.links
        closed: dict[DeviceKind, list[str]] = {}
        for asset_ref in self.switchable:
            if not links[asset_ref].is_open:
                closed.setdefault(links[asset_ref].kind, []).append(asset_ref)
        kind = self.rng.choice(sorted(closed))
        changes = {self.rng.choice(closed[kind]): True}
        open_ = [asset_ref for asset_ref in self.switchable if links[asset_ref].is_open]
        if open_:
            changes[self.rng.choice(open_)] = False
        self.topology = self.topology.switched(changes)
        for asset_ref, is_open in changes.items():
            if self.initial.links[asset_ref].is_open == is_open:
                self.changed.pop(asset_ref, None)
            else:
                self.changed[asset_ref] = is_open

    def switched(self, oracle: Oracle) -> AbstractContextManager[None]:
        """The oracle's net in the walk's switching state."""
        return oracle.switched(
            [a for a, is_open in self.changed.items() if is_open],
            close=[a for a, is_open in self.changed.items() if not is_open],
        )

    def unsupplied(self) -> set[str]:
        energized = self.topology.energized_nodes()
        accounts_at = self.initial.accounts_at
        return {
            a for node, accounts in accounts_at.items() if node not in energized for a in accounts
        }


@pytest.mark.parametrize("seed", SEEDS)
def test_switching_steps_leave_unsupplied_whom_pandapower_does(
    net: Any, model: GridModel, seed: int
) -> None:
    walk, oracle = Walk(Network.from_model(model), seed), Oracle(net)
    for _ in range(STEPS):
        walk.step()
        with walk.switched(oracle):
            assert walk.unsupplied() == oracle.unsupplied_accounts()


@pytest.mark.parametrize("seed", SEEDS)
def test_switching_steps_trace_downstream_like_pandapower(
    net: Any, model: GridModel, seed: int
) -> None:
    """Below a closed device lie the customers that opening it too would cut off."""
    walk, oracle = Walk(Network.from_model(model), seed), Oracle(net)
    wrong = []
    for step in range(STEPS):
        walk.step()
        links = walk.topology.network.links
        closed = [a for a in walk.switchable if not links[a].is_open]
        unsupplied = walk.unsupplied()
        with walk.switched(oracle):
            for asset_ref in walk.rng.sample(closed, SAMPLE):
                expected = oracle.unsupplied_accounts(opening=asset_ref) - unsupplied
                if walk.topology.downstream(asset_ref).accounts != expected:
                    wrong.append((step, asset_ref))
    assert wrong == []


@pytest.mark.parametrize("seed", SEEDS)
def test_reimport_edits_answer_like_a_rebuild(model: GridModel, seed: int) -> None:
    """Laterals added, devices removed and re-routed, premises moved, step by step with
    `Topology.edited`: the same answers as a topology built afresh from the edited grid."""
    network, rng = Network.from_model(model), random.Random(seed)
    topology = Topology(network)
    topology.customer_counts()
    for step in range(STEPS):
        edit = random_edit(network, rng, f"r{step}")
        topology, network = topology.edited(edit), applied(network, edit)
        traced = [*edit.links, *rng.sample(sorted(network.links), SAMPLE * 10)]
        assert answers(topology, traced) == answers(Topology(network), traced)
