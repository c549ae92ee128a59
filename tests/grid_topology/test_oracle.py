"""The oracle's shortcut for "this device opened too" against pandapower asked afresh.

On random switching states of a SimBench grid, for a seeded sample of every kind of device
the oracle opens (bus-bus, line and transformer switches, lines and transformers, our fuses,
and a device already open), the buses the oracle finds unsupplied must be exactly those
`pandapower.topology.unsupplied_buses` finds on the net with the device opened.
"""

import random
from typing import Any

import pytest

pytest.importorskip("pandapower")
pytest.importorskip("simbench")

import pandapower as pp

from tests.grid_topology.oracle import Oracle

CODE = "1-MVLV-urban-all-0-sw"
STATES = 3
SAMPLE = 3
"""Devices of each kind asked about in each switching state."""
pytestmark = pytest.mark.simbench


@pytest.fixture(scope="module")
def net() -> Any:
    from grid_topology.simbench import load_simbench_net

    return load_simbench_net(CODE)


def _kinds(net: Any) -> dict[str, list[str]]:
    switch = net.switch
    kinds = {f"{et} switch": sorted(switch.name[switch.et == et]) for et in sorted(set(switch.et))}
    return kinds | {
        "line": sorted(net.line.name),
        "transformer": sorted(net.trafo.name),
        "fuse": [f"{name} Fuse" for name in sorted([*net.line.name, *net.trafo.name])],
        "open switch": sorted(switch.name[~switch.closed.astype(bool)]),
    }


@pytest.mark.parametrize("seed", range(STATES))
def test_opening_a_device_leaves_unsupplied_what_pandapower_finds(net: Any, seed: int) -> None:
    rng, oracle, kinds = random.Random(seed), Oracle(net), _kinds(net)
    closed = sorted(net.switch.name[net.switch.closed.astype(bool)])
    state = {"open_": rng.sample(closed, 3), "close": rng.sample(kinds["open switch"], 2)}
    wrong = []
    with oracle.switched(**state):
        for kind, names in kinds.items():
            for asset_ref in rng.sample(names, SAMPLE):
                fast = oracle.unsupplied_buses(opening=asset_ref)
                with oracle.switched([asset_ref]):
                    truth = set(pp.topology.unsupplied_buses(net))
                if fast != truth:
                    wrong.append((kind, asset_ref))
        assert oracle.unsupplied_buses() == set(pp.topology.unsupplied_buses(net))
    assert wrong == []
