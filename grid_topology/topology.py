"""Orientation and tracing of the network from its sources through closed devices.

The graph has a vertex for every connectivity node and for every closed device, with a
device vertex joined to its two terminal nodes. A vertex is then "downstream" of a device
exactly when every path from a source to it passes through that device: the device
*dominates* it. The dominator tree of this graph (rooted at a virtual super-source) is
therefore the radial orientation of a radial network, and stays correct for meshed or
parallel-fed parts, where opening one device interrupts nobody.
"""

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

import networkx as nx

from grid_topology.model import PROTECTIVE_KINDS, DeviceKind, GridModel

NodeVertex = tuple[str, str]
"""("n", node ref) or ("d", asset_ref)."""

_ROOT: NodeVertex = ("root", "")


def _node(ref: str) -> NodeVertex:
    return ("n", ref)


def _device(asset_ref: str) -> NodeVertex:
    return ("d", asset_ref)


@dataclass(frozen=True)
class Link:
    """What tracing needs to know of a device."""

    asset_ref: str
    kind: DeviceKind
    from_node: str
    to_node: str
    is_open: bool = False

    @property
    def is_protective(self) -> bool:
        return self.kind in PROTECTIVE_KINDS


@dataclass(frozen=True)
class Network:
    """The connectivity of a grid in its current switching state, and who is served where."""

    links: Mapping[str, Link]
    sources: frozenset[str]
    accounts_at: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Node ref -> accounts of the customers served at that node."""

    @classmethod
    def from_model(cls, model: GridModel) -> "Network":
        accounts: dict[str, list[str]] = {}
        for premise in model.premises:
            accounts.setdefault(premise.node, []).append(premise.customer.account)
        return cls(
            links={
                d.asset_ref: Link(d.asset_ref, d.kind, d.from_node, d.to_node, d.is_open)
                for d in model.devices
            },
            sources=frozenset(n.ref for n in model.nodes if n.is_source),
            accounts_at={node: tuple(sorted(a)) for node, a in accounts.items()},
        )

    def switched(self, *, open_: Iterable[str] = (), close: Iterable[str] = ()) -> "Network":
        """A copy in which the given devices are opened and closed."""
        links = dict(self.links)
        for asset_ref, is_open in [(a, True) for a in open_] + [(a, False) for a in close]:
            if asset_ref not in links:
                raise KeyError(asset_ref)
            links[asset_ref] = replace(links[asset_ref], is_open=is_open)
        return replace(self, links=links)


@dataclass(frozen=True)
class Trace:
    """What lies beyond one device (downstream) or between it and a source (upstream)."""

    devices: tuple[str, ...]
    nodes: frozenset[str]
    accounts: frozenset[str]


@dataclass(frozen=True)
class Ownership:
    nodes: dict[str, str]
    devices: dict[str, str]


class Topology:
    """A network oriented from its sources; answers traces in time linear in the answer."""

    def __init__(self, network: Network) -> None:
        self.network = network
        graph = nx.DiGraph()
        graph.add_node(_ROOT)
        for source in network.sources:
            graph.add_edge(_ROOT, _node(source))
        for link in network.links.values():
            if link.is_open:
                continue
            device = _device(link.asset_ref)
            for terminal in (_node(link.from_node), _node(link.to_node)):
                graph.add_edge(terminal, device)
                graph.add_edge(device, terminal)
        idom = nx.immediate_dominators(graph, _ROOT)
        self._parent: dict[NodeVertex, NodeVertex] = {v: p for v, p in idom.items() if v != p}
        self._children: dict[NodeVertex, list[NodeVertex]] = {}
        for vertex, parent in self._parent.items():
            self._children.setdefault(parent, []).append(vertex)
        self._terminals: dict[str, list[str]] = {}
        for link in network.links.values():
            self._terminals.setdefault(link.from_node, []).append(link.asset_ref)
            self._terminals.setdefault(link.to_node, []).append(link.asset_ref)

    def switched(self, changes: Mapping[str, bool]) -> "Topology":
        """The topology after opening (True) or closing (False) the given devices."""
        effective = {
            ref: is_open
            for ref, is_open in changes.items()
            if self.network.links[ref].is_open != is_open
        }
        if not effective:
            return self
        return Topology(
            self.network.switched(
                open_=[ref for ref, is_open in effective.items() if is_open],
                close=[ref for ref, is_open in effective.items() if not is_open],
            )
        )

    def is_energized(self, node_ref: str) -> bool:
        return _node(node_ref) in self._parent

    def is_device_energized(self, asset_ref: str) -> bool:
        return _device(asset_ref) in self._parent

    def energized_nodes(self) -> frozenset[str]:
        return frozenset(ref for kind, ref in self._parent if kind == "n")

    def _subtree(self, start: NodeVertex) -> Iterator[NodeVertex]:
        stack = [start]
        while stack:
            vertex = stack.pop()
            yield vertex
            stack.extend(self._children.get(vertex, ()))

    def downstream(self, asset_ref: str) -> Trace:
        """Everything that loses supply when this device opens, with the devices met there.

        Open devices on the boundary (normally open ties, say) are listed too, since a
        dispatcher restoring the area needs them.
        """
        link = self.network.links[asset_ref]
        start = _device(asset_ref)
        if link.is_open or start not in self._parent:
            return Trace(devices=(), nodes=frozenset(), accounts=frozenset())
        nodes = {ref for kind, ref in self._subtree(start) if kind == "n"}
        devices = [ref for kind, ref in self._subtree(start) if kind == "d" and ref != asset_ref]
        seen = set(devices) | {asset_ref}
        for node in sorted(nodes):
            for other in self._terminals.get(node, ()):
                if other not in seen and self.network.links[other].is_open:
                    devices.append(other)
                    seen.add(other)
        return Trace(devices=tuple(devices), nodes=frozenset(nodes), accounts=self._accounts(nodes))

    def upstream(self, asset_ref: str) -> Trace:
        """The devices a source's power passes through to reach this device, nearest first."""
        return self._path_to_source(_device(asset_ref))

    def upstream_of_node(self, node_ref: str) -> Trace:
        return self._path_to_source(_node(node_ref))

    def _path_to_source(self, vertex: NodeVertex) -> Trace:
        devices: list[str] = []
        nodes: set[str] = set()
        current = self._parent.get(vertex)
        while current is not None and current != _ROOT:
            kind, ref = current
            if kind == "d":
                devices.append(ref)
            else:
                nodes.add(ref)
            current = self._parent.get(current)
        return Trace(devices=tuple(devices), nodes=frozenset(nodes), accounts=frozenset())

    def protective_chain(self, node_ref: str) -> tuple[str, ...]:
        """Protective devices between a node and its source, nearest first."""
        links = self.network.links
        return tuple(d for d in self.upstream_of_node(node_ref).devices if links[d].is_protective)

    def customer_counts(self) -> dict[str, int]:
        """Customers downstream of every energized device, in one pass over the tree."""
        counts: dict[NodeVertex, int] = {}
        order = list(self._subtree(_ROOT))
        for vertex in reversed(order):
            own = len(self.network.accounts_at.get(vertex[1], ())) if vertex[0] == "n" else 0
            counts[vertex] = own + sum(counts[c] for c in self._children.get(vertex, ()))
        return {ref: n for (kind, ref), n in counts.items() if kind == "d"}

    def _accounts(self, nodes: Iterable[str]) -> frozenset[str]:
        accounts_at = self.network.accounts_at
        return frozenset(a for node in nodes for a in accounts_at.get(node, ()))

    def nearest_upstream(self, heads: Collection[str]) -> Ownership:
        """For every energized node and device, the nearest of `heads` at or above it.

        Answers "which feeder is this on?" and "which transformer serves this premise?" for
        the whole network in one walk.
        """
        wanted = set(heads)
        ownership = Ownership(nodes={}, devices={})
        stack: list[tuple[NodeVertex, str | None]] = [(_ROOT, None)]
        while stack:
            (kind, ref), owner = stack.pop()
            if kind == "d" and ref in wanted:
                owner = ref
            if owner is not None:
                (ownership.devices if kind == "d" else ownership.nodes)[ref] = owner
            stack.extend((child, owner) for child in self._children.get((kind, ref), ()))
        return ownership
