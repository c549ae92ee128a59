"""Orientation and tracing of the network from its sources through closed devices.

The graph has a vertex for every connectivity node and for every closed device, with a
device vertex joined to its two terminal nodes. A vertex is then "downstream" of a device
exactly when every path from a source to it passes through that device: the device
*dominates* it. The dominator tree of this graph (rooted at a virtual super-source) is
therefore the radial orientation of a radial network, and stays correct for meshed or
parallel-fed parts, where opening one device interrupts nobody.

Switching re-orients the tree where it changed rather than building it again; see
`_Reorientation` for why a change stays local.
"""

from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

import networkx as nx

from grid_topology.dominators import immediate_dominators
from grid_topology.model import PROTECTIVE_KINDS, DeviceKind, GridModel
from grid_topology.paged import PagedMap

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
        """A copy in which the given devices are opened and closed (KeyError: no such device)."""
        changes = [(a, True) for a in open_] + [(a, False) for a in close]
        return self.edited(
            NetworkEdit(links={a: replace(self.links[a], is_open=o) for a, o in changes})
        )

    def edited(self, edit: "NetworkEdit") -> "Network":
        """A copy with the edit applied.

        The copy shares the links and accounts of the network first edited (see `_Overlay`),
        so an edit costs as little on a network of millions of devices as on a small one.
        """
        return Network(
            links=_Overlay.of(self.links, edit.links),
            sources=(self.sources - {n for n, s in edit.sources.items() if not s})
            | {n for n, s in edit.sources.items() if s},
            accounts_at=_Overlay.of(
                self.accounts_at, {n: a or None for n, a in edit.accounts_at.items()}
            ),
        )


@dataclass(frozen=True)
class NetworkEdit:
    """A change to the network itself (a re-import), or to devices' switching states.

    Every entry states how a device or node is now; entries equal to the network's change
    nothing.
    """

    links: Mapping[str, Link | None] = field(default_factory=dict)
    """asset_ref -> the device as it is now; None: it is gone."""
    sources: Mapping[str, bool] = field(default_factory=dict)
    """Node ref -> whether power enters the network there now."""
    accounts_at: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Node ref -> the accounts served there now (empty: none)."""


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Overlay(Mapping[K, V]):
    """An edited mapping: the original's entries but for the edited ones, which alone are
    held here; the original is shared, not copied."""

    def __init__(self, original: Mapping[K, V], changed: dict[K, V | None]) -> None:
        self.original = original
        self.changed = changed
        """Key -> its value now; None: removed."""
        self._length = len(original) + sum(
            (v is not None) - (k in original) for k, v in changed.items()
        )

    @classmethod
    def of(cls, mapping: Mapping[K, V], edits: Mapping[K, V | None]) -> "Mapping[K, V]":
        """`mapping` with `edits` applied (a value None removes the key)."""
        if not edits:
            return mapping
        if isinstance(mapping, _Overlay):
            original, changed = mapping.original, dict(mapping.changed)
        else:
            original, changed = mapping, {}
        for key, value in edits.items():
            if original.get(key) == value:
                changed.pop(key, None)
            else:
                changed[key] = value
        return cls(original, changed)

    def __getitem__(self, key: K) -> V:
        if key not in self.changed:
            return self.original[key]
        value = self.changed[key]
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        if key in self.changed:
            return self.changed[key] is not None
        return key in self.original

    def __iter__(self) -> Iterator[K]:
        yield from (k for k in self.original if k not in self.changed)
        yield from (k for k, v in self.changed.items() if v is not None)

    def __len__(self) -> int:
        return self._length


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


@dataclass(frozen=True)
class _Counts:
    """Customers at or below each energized vertex; devices apart, to be handed out whole."""

    nodes: PagedMap[str, int]
    devices: PagedMap[str, int]

    def of(self, vertex: NodeVertex) -> PagedMap[str, int]:
        return self.devices if vertex[0] == "d" else self.nodes

    def edited(self) -> "_Counts":
        return _Counts(self.nodes.edited(), self.devices.edited())


class Topology:
    """A network oriented from its sources; answers traces in time linear in the answer.

    Its answers never change once built, so threads can share it: `switched` returns a new
    one, which shares with this one all that the switching did not change.
    """

    network: Network
    _terminals: PagedMap[str, tuple[str, ...]]
    """Node ref -> the devices, open or closed, that end at it."""
    _parent: PagedMap[NodeVertex, NodeVertex]
    _children: PagedMap[NodeVertex, tuple[NodeVertex, ...]]
    _counts: _Counts | None
    """Computed on first use, then carried across switching."""
    _sums: tuple[Mapping[str, complex], dict[str, complex]] | None
    """The last `sums_below` answer, with the values it was asked for."""

    def __init__(self, network: Network) -> None:
        graph = nx.Graph()
        graph.add_node(_ROOT)
        graph.add_edges_from((_ROOT, _node(source)) for source in network.sources)
        for link in network.links.values():
            if not link.is_open:
                device = _device(link.asset_ref)
                graph.add_edge(_node(link.from_node), device)
                graph.add_edge(device, _node(link.to_node))
        parent = immediate_dominators(graph.adj, _ROOT)
        del graph
        children: dict[NodeVertex, list[NodeVertex]] = {}
        for vertex, above in parent.items():
            children.setdefault(above, []).append(vertex)
        terminals: dict[str, list[str]] = {}
        for link in network.links.values():
            terminals.setdefault(link.from_node, []).append(link.asset_ref)
            terminals.setdefault(link.to_node, []).append(link.asset_ref)
        vertices = len(terminals) + len(network.links)
        self._assemble(
            network,
            PagedMap({n: tuple(t) for n, t in terminals.items()}, capacity=len(terminals)),
            PagedMap(parent, capacity=vertices),
            PagedMap({v: tuple(c) for v, c in children.items()}, capacity=vertices),
            None,
        )

    def _assemble(
        self,
        network: Network,
        terminals: PagedMap[str, tuple[str, ...]],
        parent: PagedMap[NodeVertex, NodeVertex],
        children: PagedMap[NodeVertex, tuple[NodeVertex, ...]],
        counts: _Counts | None,
    ) -> None:
        self.network = network
        self._terminals = terminals
        self._parent = parent
        self._children = children
        self._counts = counts
        self._sums = None

    def switched(self, changes: Mapping[str, bool]) -> "Topology":
        """The topology after these switching operations (asset_ref -> is_open)."""
        links = self.network.links
        return self.edited(
            NetworkEdit(links={a: replace(links[a], is_open=o) for a, o in changes.items()})
        )

    def edited(self, edit: NetworkEdit) -> "Topology":
        """The topology after this edit (switching, or devices, sources and customers added,
        removed or moved by a re-import).

        Re-orients only the part of the tree the edit reaches and shares the rest with this
        topology, which stays as it was for whoever is still reading it.
        """
        before, network = self.network, self.network.edited(edit)
        links = [a for a in edit.links if before.links.get(a) != network.links.get(a)]
        sources = [n for n in edit.sources if (n in before.sources) != (n in network.sources)]
        served = [
            n for n in edit.accounts_at if before.accounts_at.get(n) != network.accounts_at.get(n)
        ]
        topology = Topology.__new__(Topology)  # assembled from parts, not oriented from scratch
        if not (links or sources or served):
            topology._assemble(network, self._terminals, self._parent, self._children, self._counts)
            return topology
        terminals = self._terminals
        if any(_ends(before.links.get(a)) != _ends(network.links.get(a)) for a in links):
            terminals = _reterminated(terminals, before.links, network.links, links)
        touched = [_device(a) for a in links]
        touched += [
            _node(n)
            for a in links
            for n in _ends(before.links.get(a)) + _ends(network.links.get(a))
        ]
        touched += [_node(n) for n in sources + served]
        reoriented = _Reorientation(
            self, network, terminals, list(dict.fromkeys(touched)), from_root=bool(sources)
        )
        topology._assemble(
            network, terminals, reoriented.parent, reoriented.children, reoriented.counts
        )
        return topology

    def is_energized(self, node_ref: str) -> bool:
        return _node(node_ref) in self._parent

    def is_device_energized(self, asset_ref: str) -> bool:
        return _device(asset_ref) in self._parent

    def energized_nodes(self) -> frozenset[str]:
        return frozenset(ref for kind, ref in self._parent if kind == "n")

    def devices_at(self, node_ref: str) -> Sequence[str]:
        """The devices, open or closed, that end at a node."""
        return self._terminals.get(node_ref, ())

    def sums_below(self, values: Mapping[str, complex]) -> Mapping[str, complex]:
        """For every energized device, the sum of `values` (by node) at or below it: on a
        radial network, the load each device carries (read-only).

        One pass over the tree; asked again for the same values object, this topology
        answers from memory, so the values must not change while it is in use.
        """
        if self._sums is not None and self._sums[0] is values:
            return self._sums[1]
        sums: dict[NodeVertex, complex] = {}
        for vertex in reversed(list(self._subtree(_ROOT))):
            own = values.get(vertex[1], 0) if vertex[0] == "n" else 0
            sums[vertex] = own + sum(sums[child] for child in self._children.get(vertex, ()))
        answer = {ref: total for (kind, ref), total in sums.items() if kind == "d"}
        self._sums = (values, answer)
        return answer

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

    def accounts_below(self, asset_ref: str) -> frozenset[str]:
        """`downstream(asset_ref).accounts` alone, in a third of the time: one walk, no
        devices, no boundary."""
        start = _device(asset_ref)
        if self.network.links[asset_ref].is_open or start not in self._parent:
            return frozenset()
        return self._accounts(ref for kind, ref in self._subtree(start) if kind == "n")

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

    def protective_chains(self, node_refs: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """`protective_chain` of many nodes at once: the walk above their common ancestors is
        shared, so a storm's hundred thousand customers cost one pass, not a walk each."""
        links = self.network.links
        # a vertex's protective devices up to the source, itself first if it is one
        inclusive: dict[NodeVertex, tuple[str, ...]] = {_ROOT: ()}
        chains = {}
        for node_ref in node_refs:
            start = self._parent.get(_node(node_ref))
            path = []
            vertex = start
            while vertex is not None and vertex not in inclusive:
                path.append(vertex)
                vertex = self._parent.get(vertex)
            chain = inclusive[vertex] if vertex is not None else ()
            for kind, ref in reversed(path):
                if kind == "d" and links[ref].is_protective:
                    chain = (ref, *chain)
                inclusive[(kind, ref)] = chain
            chains[node_ref] = inclusive[start] if start is not None else ()
        return chains

    def customer_counts(self) -> Mapping[str, int]:
        """Customers downstream of every energized device (read-only).

        One pass over the tree the first time; switched topologies keep the figures up to
        date, so later calls cost nothing.
        """
        if self._counts is None:
            self._counts = self._count_all()
        return self._counts.devices

    def _count_all(self) -> _Counts:
        counts: dict[NodeVertex, int] = {}
        for vertex in reversed(list(self._subtree(_ROOT))):
            counts[vertex] = self._own_customers(vertex) + sum(
                counts[child] for child in self._children.get(vertex, ())
            )
        return _Counts(
            nodes=PagedMap(
                {ref: n for (kind, ref), n in counts.items() if kind == "n"},
                capacity=len(self._terminals),
            ),
            devices=PagedMap(
                {ref: n for (kind, ref), n in counts.items() if kind == "d"},
                capacity=len(self.network.links),
            ),
        )

    def _own_customers(self, vertex: NodeVertex) -> int:
        return _own_customers(self.network, vertex)

    def _accounts(self, nodes: Iterable[str]) -> frozenset[str]:
        accounts_at = self.network.accounts_at
        return frozenset(a for node in nodes for a in accounts_at.get(node, ()))

    def nearest_upstream(self, heads: Collection[str]) -> Ownership:
        """For every energized node and device, the nearest of `heads` at or above it.

        Answers "which feeder is this on?" and "which transformer serves this premise?" for
        the whole network in one walk.
        """
        wanted = set(heads)
        return self._owned_below(_ROOT, None, wanted.__contains__)

    def sections_below(self, asset_ref: str, is_head: Callable[[Link], bool]) -> dict[str, str]:
        """Account -> the nearest device at or above it, below `asset_ref`, for which
        `is_head` holds (`asset_ref` itself when there is none in between): the sections a
        restoration is verified by, in one walk of what the device feeds."""
        start = _device(asset_ref)
        if self.network.links[asset_ref].is_open or start not in self._parent:
            return {}
        links = self.network.links
        owned = self._owned_below(start, asset_ref, lambda ref: is_head(links[ref]))
        accounts_at = self.network.accounts_at
        return {a: owner for node, owner in owned.nodes.items() for a in accounts_at.get(node, ())}

    def _owned_below(
        self, start: NodeVertex, owner: str | None, is_head: Callable[[str], bool]
    ) -> Ownership:
        ownership = Ownership(nodes={}, devices={})
        stack: list[tuple[NodeVertex, str | None]] = [(start, owner)]
        while stack:
            (kind, ref), owner = stack.pop()
            if kind == "d" and is_head(ref):
                owner = ref
            if owner is not None:
                (ownership.devices if kind == "d" else ownership.nodes)[ref] = owner
            stack.extend((child, owner) for child in self._children.get((kind, ref), ()))
        return ownership


def _own_customers(network: Network, vertex: NodeVertex) -> int:
    return len(network.accounts_at.get(vertex[1], ())) if vertex[0] == "n" else 0


def _ends(link: Link | None) -> tuple[str, ...]:
    return (link.from_node, link.to_node) if link is not None else ()


def _reterminated(
    terminals: PagedMap[str, tuple[str, ...]],
    before: Mapping[str, Link],
    after: Mapping[str, Link],
    asset_refs: Iterable[str],
) -> PagedMap[str, tuple[str, ...]]:
    """The devices ending at each node, once these devices have their new ends (or none)."""
    edited = terminals.edited()
    for asset_ref in asset_refs:
        old, new = _ends(before.get(asset_ref)), _ends(after.get(asset_ref))
        if old == new:
            continue
        for node in dict.fromkeys(old):
            rest = tuple(a for a in edited.get(node, ()) if a != asset_ref)
            if rest:
                edited[node] = rest
            else:
                edited.discard(node)
        for node in dict.fromkeys(new):
            edited[node] = (*edited.get(node, ()), asset_ref)
    return edited


class _Reorientation:
    """A topology's tree and counts, copied and re-oriented after an edit: a batch of switching
    changes, or devices, sources and customers a re-import added, removed or moved.

    Two facts about this graph, whose edges run both ways, keep the work local:

    - Whatever lies below a vertex v of the tree hangs off the rest of the network through v
      alone. So nothing outside the subtree of `top`, the nearest common ancestor of the
      changed devices and their terminals, moves; and what the changes reach in that subtree
      can be oriented again from `top`, as if it were the root. (A node that became or
      ceased to be a source hangs off the root itself: then `top` is the root.)
    - Below a vertex that is no ancestor of a change, nothing changes either: the vertex may
      get a new parent or lose supply, but what hangs below it keeps its shape and follows.

    So the vertices oriented again are those the changes reach without passing `top` or
    stepping down from such a vertex to its children: on a radial feeder, the path from the
    changed devices up to `top` and the neighbours of that path, however large the feeder.
    An area that gains supply is oriented in full and one that loses it is dropped in full:
    that work is the change itself.
    """

    def __init__(
        self,
        before: Topology,
        network: Network,
        terminals: PagedMap[str, tuple[str, ...]],
        touched: list[NodeVertex],
        *,
        from_root: bool,
    ) -> None:
        """`touched`: the changed devices, their terminals before and after, and the nodes
        whose customers changed; `from_root`: sources changed."""
        self.before = before
        self.network = network
        self.terminals = terminals
        self.parent = before._parent.edited()
        self.children = before._children.edited()
        self.counts = before._counts.edited() if before._counts is not None else None
        chains = [self._chain(v) for v in touched if v in before._parent]
        if from_root:
            chains.append([_ROOT])
        if not chains:
            return  # only unsupplied parts changed: they stay unsupplied
        others = [set(chain) for chain in chains[1:]]
        top = next(v for v in chains[0] if all(v in other for other in others))
        on_paths = {v for chain in chains for v in chain[: chain.index(top)]}
        region = self._region(touched, top, on_paths)
        opened = {v for v in touched if v in before._parent and not self._in_graph(v)}
        self._rewire(top, region | opened, self._dominators(top, region))

    def _chain(self, vertex: NodeVertex) -> list[NodeVertex]:
        """The vertex and its ancestors in the old tree, up to the root."""
        chain = [vertex]
        while chain[-1] != _ROOT:
            chain.append(self.before._parent[chain[-1]])
        return chain

    def _in_graph(self, vertex: NodeVertex) -> bool:
        kind, ref = vertex
        link = self.network.links.get(ref) if kind == "d" else None
        return kind == "n" or (link is not None and not link.is_open)

    def _neighbours(self, vertex: NodeVertex) -> Iterator[NodeVertex]:
        """Neighbours in the switched graph."""
        kind, ref = vertex
        links = self.network.links
        if kind == "d":
            yield _node(links[ref].from_node)
            yield _node(links[ref].to_node)
        else:
            for asset_ref in self.terminals.get(ref, ()):
                if not links[asset_ref].is_open:
                    yield _device(asset_ref)

    def _region(
        self, touched: list[NodeVertex], top: NodeVertex, on_paths: set[NodeVertex]
    ) -> set[NodeVertex]:
        """The vertices to orient again: reachable from the changes without passing `top` or
        stepping down from a vertex that is no ancestor of a change (off `on_paths`)."""
        old_parent = self.before._parent
        region = {v for v in touched if v != top and self._in_graph(v)}
        stack = list(region)
        while stack:
            vertex = stack.pop()
            for other in self._neighbours(vertex):
                if other == top or other in region:
                    continue
                if vertex not in on_paths and old_parent.get(other) == vertex:
                    continue
                region.add(other)
                stack.append(other)
        return region

    def _dominators(self, top: NodeVertex, region: set[NodeVertex]) -> dict[NodeVertex, NodeVertex]:
        """New parents of the region's vertices that are still supplied, found from `top`."""
        graph = nx.Graph()
        graph.add_node(top)
        sources = self.network.sources
        for vertex in region:
            if vertex[0] == "n" and vertex[1] in sources:
                graph.add_edge(_ROOT, vertex)
            for other in self._neighbours(vertex):
                if other in region or other == top:
                    graph.add_edge(other, vertex)
        idom = immediate_dominators(graph.adj, top)
        return {v: p for v, p in idom.items() if v in region}

    def _rewire(
        self, top: NodeVertex, stale: set[NodeVertex], parent_of: dict[NodeVertex, NodeVertex]
    ) -> None:
        """Replace the stale vertices' places in the tree (their old parents are stale or
        `top`), keeping the untouched subtrees below them, and bring the counts along."""
        old_children = self.before._children
        kept = {v: [c for c in old_children.get(v, ()) if c not in stale] for v in stale}
        children = {top: [c for c in old_children.get(top, ()) if c not in stale]}
        for vertex in stale:
            if vertex in parent_of:
                children[vertex] = kept[vertex]
            else:
                self._drop(vertex)
                for child in kept[vertex]:
                    for below in self.before._subtree(child):
                        self._drop(below)
        for vertex, above in parent_of.items():
            self.parent[vertex] = above
            children[above].append(vertex)
        for vertex, its_children in children.items():
            self.children[vertex] = tuple(its_children)
        if self.counts is not None:
            self._recount(top, stale, parent_of)

    def _drop(self, vertex: NodeVertex) -> None:
        self.parent.discard(vertex)
        self.children.discard(vertex)
        if self.counts is not None:
            self.counts.of(vertex).discard(vertex[1])

    def _recount(
        self, top: NodeVertex, stale: set[NodeVertex], parent_of: dict[NodeVertex, NodeVertex]
    ) -> None:
        """Count the re-oriented vertices bottom up, then pass the difference up from `top`
        (whose own customers may have changed too)."""
        assert self.counts is not None and self.before._counts is not None
        counts, old = self.counts, self.before._counts
        order: list[NodeVertex] = []
        stack = [c for c in self.children[top] if c in parent_of]
        while stack:
            vertex = stack.pop()
            order.append(vertex)
            stack.extend(c for c in self.children[vertex] if c in parent_of)
        for vertex in reversed(order):
            counts.of(vertex)[vertex[1]] = _own_customers(self.network, vertex) + sum(
                counts.of(child)[child[1]] for child in self.children[vertex]
            )
        gained = sum(counts.of(v)[v[1]] for v in self.children[top] if v in parent_of)
        lost = sum(old.of(v)[v[1]] for v in self.before._children.get(top, ()) if v in stale)
        gained += _own_customers(self.network, top) - self.before._own_customers(top)
        vertex = top
        while vertex != _ROOT:
            counts.of(vertex)[vertex[1]] += gained - lost
            vertex = self.parent[vertex]
