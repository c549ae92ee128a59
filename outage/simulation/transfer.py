"""Where a control room would restore part of a faulted feeder through a tie.

Pure: the network in its normal state in, plain data out. A fault at a protective device
takes out everything below it. If a normally-open tie joins that area to supply from
elsewhere, the dispatcher opens the switch nearest the faulted device on the way to the
tie (the fault is taken to lie between the two), then closes the tie: everything beyond
the switch is fed again from the other side, and only the section in front of it stays out.
"""

from dataclasses import dataclass

from grid_topology.model import SWITCHING_KINDS
from grid_topology.topology import Topology


@dataclass(frozen=True)
class TransferPlan:
    """Open `isolating_switch`, close `tie`: `transferred` have supply again."""

    faulted: str
    """The protective device that opened."""
    isolating_switch: str
    tie: str
    transferred: frozenset[str]
    """Accounts beyond the isolating switch, fed through the tie once it closes."""
    isolated: frozenset[str]
    """Accounts between the faulted device and the isolating switch: out until the repair."""


def plan_transfer(topology: Topology, faulted: str) -> TransferPlan | None:
    """The tie and isolating switch that give supply back to the most customers; None when
    no normally-open tie reaches the area below `faulted` from elsewhere."""
    area = topology.downstream(faulted)
    links = topology.network.links
    best: TransferPlan | None = None
    for tie in sorted(area.devices):
        link = links[tie]
        if not (link.is_open and link.kind in SWITCHING_KINDS):
            continue
        for inside, outside in ((link.from_node, link.to_node), (link.to_node, link.from_node)):
            if inside not in area.nodes or outside in area.nodes:
                continue
            if not topology.is_energized(outside):
                continue
            switch = _isolating_switch(topology, faulted, inside)
            if switch is None:
                continue
            transferred = topology.downstream(switch).accounts
            if best is None or len(transferred) > len(best.transferred):
                best = TransferPlan(faulted, switch, tie, transferred, area.accounts - transferred)
    return best


def _isolating_switch(topology: Topology, faulted: str, node: str) -> str | None:
    """The switchable device nearest `faulted` on the way from it down to `node`."""
    path = topology.upstream_of_node(node).devices
    below = path[: path.index(faulted)]
    links = topology.network.links
    switchable = [d for d in below if links[d].kind in SWITCHING_KINDS]
    return switchable[-1] if switchable else None
