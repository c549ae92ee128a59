"""Independent checks of restoration plans: brute force over ties, pandapower power flow.

The brute force knows nothing of the planner: it opens the operated devices and every
closed switchable device around the faulted sections, then tries every subset of the ties
(and of the operated devices, to reclose) and keeps the subsets that close no loop and load
no element beyond its rating further than before the fault.
"""

import itertools
from dataclasses import dataclass
from typing import Any

import networkx as nx
import pandapower as pp

from grid_topology.model import SWITCHING_KINDS
from grid_topology.restoration import GridData, Incident, Plan, sections
from grid_topology.topology import Network, Topology
from tests.grid_topology.oracle import Oracle


def _cyclomatic(graph: Any) -> int:
    return int(graph.number_of_edges() - graph.number_of_nodes()) + nx.number_connected_components(
        graph
    )


def _closed_graph(network: Network) -> Any:
    graph = nx.MultiGraph()
    for link in network.links.values():
        if not link.is_open:
            graph.add_edge(link.from_node, link.to_node)
    return graph


@dataclass(frozen=True)
class BruteForce:
    restored: int
    """Most customers any subset of ties brings back."""
    subsets: int


def brute_force(
    topology: Topology, incident: Incident, data: GridData, margin: float
) -> BruteForce:
    links = topology.network.links
    before = topology.switched({d: False for d in incident.operated})
    blocked = sections(before, incident.faulted)
    isolation = {
        d
        for node in blocked
        for d in before.devices_at(node)
        if not links[d].is_open and links[d].kind in SWITCHING_KINDS
    }
    opened = before.switched({d: True for d in {*incident.operated, *isolation}})
    dead = before.energized_nodes() - opened.energized_nodes() - blocked
    ties = sorted(
        {
            d
            for node in dead
            for d in before.devices_at(node)
            if links[d].kind in SWITCHING_KINDS
            and (links[d].is_open or d in incident.operated)
            and {links[d].from_node, links[d].to_node} - dead - blocked
        }
    )
    loops = _cyclomatic(_closed_graph(opened.network))
    flows_before = before.sums_below(data.loads)
    best = 0
    for size in range(len(ties) + 1):
        for closed in itertools.combinations(ties, size):
            state = opened.switched({d: False for d in closed})
            if any(state.is_energized(node) for node in blocked):
                continue
            if _cyclomatic(_closed_graph(state.network)) != loops:
                continue
            flows = state.sums_below(data.loads)
            if any(
                abs(flow) > margin * data.ratings[d] and abs(flow) > abs(flows_before.get(d, 0))
                for d, flow in flows.items()
                if d in data.ratings
            ):
                continue
            energized = state.energized_nodes()
            restored = sum(
                len(topology.network.accounts_at.get(node, ())) for node in dead & energized
            )
            best = max(best, restored)
    return BruteForce(best, 2 ** len(ties))


@dataclass(frozen=True)
class PowerFlow:
    unsupplied: set[str]
    max_line_loading: float
    max_trafo_loading: float
    new_loops: int


def power_flow(net: Any, incident: Incident, plan: Plan) -> PowerFlow:
    """The plan's end state in pandapower, with SimBench's loads."""
    oracle = Oracle(net)
    opens = [*incident.operated, *(s.asset_ref for s in plan.steps if s.open)]
    closes = [s.asset_ref for s in plan.steps if not s.open]
    with oracle.switched(opens):
        loops = _cyclomatic(pp.topology.create_nxgraph(net, respect_switches=True))
    with oracle.switched(opens, close=closes):
        pp.runpp(net)
        return PowerFlow(
            unsupplied=oracle.unsupplied_accounts(),
            max_line_loading=float(net.res_line.loading_percent.max()),
            max_trafo_loading=float(net.res_trafo.loading_percent.max()),
            new_loops=_cyclomatic(pp.topology.create_nxgraph(net, respect_switches=True)) - loops,
        )
