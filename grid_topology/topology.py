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
from itertools import chain, islice
from operator import attrgetter
from typing import TypeVar

import numpy as np

from grid_topology.dominators import adjacent, dominator_tree, immediate_dominators
from grid_topology.model import PROTECTIVE_KINDS, DeviceKind, GridModel
from grid_topology.paged import PagedMap

_asset_ref = attrgetter("asset_ref")
_from_node = attrgetter("from_node")
_to_node = attrgetter("to_node")

EDITED_LISTS = 1 << 16
"""The lists edits are expected to change between two loads: the pages of their map."""

_ROOT = 0
"""The vertex of the virtual super-source every source hangs off."""
WHOLE_TREE_SHARE = 32
"""`protective_chains` of more than one vertex in this many takes the pass over the whole
tree: vectorised, it costs less per vertex than a walk by this much and more."""


@dataclass(frozen=True, slots=True)
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


class _Vertices:
    """The nodes and devices of a network numbered once, for a topology and every topology
    edited from it: their trees are arrays over these numbers, not maps of millions of
    Python objects. Numbers are only ever added; a topology's arrays cover those it knew."""

    __slots__ = ("devices", "is_device", "nodes", "refs")

    def __init__(self) -> None:
        self.refs: list[str] = [""]
        self.is_device = bytearray(1)
        self.nodes: dict[str, int] = {}
        self.devices: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.refs)

    def node(self, ref: str) -> int:
        found = self.nodes.get(ref)
        if found is None:
            found = self.nodes[ref] = self._add(ref, 0)
        return found

    def device(self, asset_ref: str) -> int:
        found = self.devices.get(asset_ref)
        if found is None:
            found = self.devices[asset_ref] = self._add(asset_ref, 1)
        return found

    def _add(self, ref: str, is_device: int) -> int:
        self.refs.append(ref)
        self.is_device.append(is_device)
        return len(self.refs) - 1

    def device_mask(self, size: int) -> np.ndarray:
        return np.frombuffer(bytes(self.is_device[:size]), dtype=np.uint8).astype(bool)


KINDS = tuple(DeviceKind)
"""Device kinds by their code in a `LinkTable`."""
_KIND_CODES = {kind: code for code, kind in enumerate(KINDS)}


class LinkTable(Mapping[str, Link]):
    """A network's devices as arrays over the numbering of its topology (`_Vertices`), each
    `Link` made when asked for: on a grid of millions of devices, a `Link` each and the maps
    numbering them again were most of an engine's start-up and a good part of its memory.

    The devices are vertices 1 to len(self); vertices the topology numbers later, for an
    edit, are not the table's.
    """

    __slots__ = ("_end_at", "_kind_at", "_open_at", "ends", "is_open", "kinds", "vertices")

    def __init__(
        self, vertices: _Vertices, kinds: np.ndarray, ends: np.ndarray, is_open: np.ndarray
    ) -> None:
        """`kinds`: codes into `KINDS`; `ends`: the vertices of each device's two nodes."""
        self.vertices = vertices
        self.kinds = np.ascontiguousarray(kinds, dtype=np.uint8)
        self.ends = np.ascontiguousarray(ends, dtype=np.int32)
        self.is_open = np.ascontiguousarray(is_open, dtype=bool)
        # a memoryview reads one item as a Python value several times faster than numpy
        self._kind_at = self.kinds.data
        self._end_at = self.ends.reshape(-1).data
        self._open_at = self.is_open.data

    @classmethod
    def numbered(
        cls,
        asset_refs: list[str],
        kinds: np.ndarray,
        node_refs: list[str],
        ends: np.ndarray,
        is_open: np.ndarray,
    ) -> "LinkTable":
        """Devices from columns: `ends` holds the places in `node_refs` of each one's two
        nodes. Devices are numbered from 1 in the order given, then the nodes."""
        vertices = _Vertices()
        count = len(asset_refs)
        first = count + 1
        vertices.devices = dict(zip(asset_refs, range(1, first), strict=True))
        vertices.nodes = dict(zip(node_refs, range(first, first + len(node_refs)), strict=True))
        vertices.refs.extend(asset_refs)
        vertices.refs.extend(node_refs)
        vertices.is_device += b"\1" * count + b"\0" * len(node_refs)
        return cls(vertices, kinds, ends.reshape(count, 2) + first, is_open)

    @classmethod
    def of(cls, links: Iterable[Link]) -> "LinkTable":
        """The devices given, the nodes numbered in the order they are first met."""
        given = list(links)
        froms, tos = list(map(_from_node, given)), list(map(_to_node, given))
        nodes = dict.fromkeys(chain(froms, tos))
        place = dict(zip(nodes, range(len(nodes)), strict=True)).__getitem__
        ends = np.empty((len(given), 2), dtype=np.int32)
        ends[:, 0] = np.fromiter(map(place, froms), dtype=np.int32, count=len(given))
        ends[:, 1] = np.fromiter(map(place, tos), dtype=np.int32, count=len(given))
        return cls.numbered(
            list(map(_asset_ref, given)),
            np.fromiter((_KIND_CODES[link.kind] for link in given), np.uint8, len(given)),
            list(nodes),
            ends,
            np.fromiter((link.is_open for link in given), dtype=bool, count=len(given)),
        )

    def _vertex(self, asset_ref: object) -> int | None:
        vertex = self.vertices.devices.get(asset_ref) if isinstance(asset_ref, str) else None
        return vertex if vertex is not None and vertex <= len(self.kinds) else None

    def __getitem__(self, asset_ref: str) -> Link:
        vertex = self._vertex(asset_ref)
        if vertex is None:
            raise KeyError(asset_ref)
        refs, device = self.vertices.refs, vertex - 1
        return Link(
            refs[vertex],
            KINDS[self._kind_at[device]],
            refs[self._end_at[2 * device]],
            refs[self._end_at[2 * device + 1]],
            bool(self._open_at[device]),
        )

    def __contains__(self, asset_ref: object) -> bool:
        return self._vertex(asset_ref) is not None

    def __iter__(self) -> Iterator[str]:
        return islice(self.vertices.refs, 1, len(self.kinds) + 1)

    def __len__(self) -> int:
        return len(self.kinds)

    def of_kinds(self, kinds: Collection[DeviceKind]) -> list[str]:
        """The devices of these kinds, in the table's order."""
        codes = [_KIND_CODES[kind] for kind in kinds]
        refs = self.vertices.refs
        return [refs[v] for v in (np.flatnonzero(np.isin(self.kinds, codes)) + 1).tolist()]


def devices_of_kinds(links: Mapping[str, Link], kinds: Collection[DeviceKind]) -> list[str]:
    """The asset_refs of the devices of these kinds: from a table's arrays when the links are
    one, or one edited, rather than from a `Link` made for each of millions of devices."""
    original, changed = (
        (links.original, links.changed) if isinstance(links, _Overlay) else (links, {})
    )
    if isinstance(original, LinkTable):
        found = original.of_kinds(kinds)
    else:
        found = [ref for ref, link in original.items() if link.kind in kinds]
    if not changed:
        return found
    return [ref for ref in found if ref not in changed] + [
        ref for ref, link in changed.items() if link is not None and link.kind in kinds
    ]


class _Lists:
    """Vertex -> vertices (a vertex's children, the devices ending at a node): arrays built
    at once, and apart from them the lists edits changed, in a map whose edited copies share
    storage (`PagedMap`), so that an edit costs what it changed."""

    __slots__ = ("changed", "offsets", "targets")

    def __init__(self, keys: np.ndarray, values: np.ndarray, size: int) -> None:
        order = np.argsort(keys, kind="stable")
        self.targets = values[order].astype(np.int32)
        self.offsets = np.zeros(size + 1, dtype=np.int32)
        np.cumsum(np.bincount(keys, minlength=size), out=self.offsets[1:])
        self.changed: PagedMap[int, tuple[int, ...]] = PagedMap({}, capacity=EDITED_LISTS)

    def get(self, key: int) -> Sequence[int]:
        found = self.changed.get(key)
        if found is not None:
            return found
        if key < len(self.offsets) - 1:
            return self.targets[self.offsets[key] : self.offsets[key + 1]].tolist()  # type: ignore[no-any-return]
        return ()

    def edited(self) -> "_Lists":
        copy = _Lists.__new__(_Lists)
        copy.offsets, copy.targets = self.offsets, self.targets
        copy.changed = self.changed.edited()
        return copy

    def __setitem__(self, key: int, value: tuple[int, ...]) -> None:
        self.changed[key] = value


def _grown(values: np.ndarray, size: int, fill: int) -> np.ndarray:
    """A copy to write to, long enough for `size` vertices."""
    if len(values) >= size:
        return values.copy()
    return np.concatenate([values, np.full(size - len(values), fill, dtype=values.dtype)])


class Topology:
    """A network oriented from its sources; answers traces in time linear in the answer.

    Its answers never change once built, so threads can share it: `switched` returns a new
    one, which shares with this one all that the switching did not change.
    """

    network: Network
    _vertices: _Vertices
    _parent: np.ndarray
    """Vertex -> its parent in the tree; -1: not energized (and the root)."""
    _children: _Lists
    _terminals: _Lists
    """Node -> the devices, open or closed, that end at it."""
    _counts: np.ndarray | None
    """Customers at or below each energized vertex: computed on first use, then carried
    across switching."""
    _levels: list[np.ndarray] | None
    """The energized vertices by depth in the tree, for passes over the whole of it."""
    _sums: tuple[Mapping[str, complex], dict[str, complex]] | None
    """The last `sums_below` answer, with the values it was asked for."""

    def __init__(self, network: Network) -> None:
        links = network.links
        table = links if isinstance(links, LinkTable) else LinkTable.of(links.values())
        vertices, ends = table.vertices, table.ends
        device = np.arange(1, len(table) + 1, dtype=np.int32)
        closed = ~table.is_open
        sources = np.array([vertices.node(ref) for ref in network.sources], dtype=np.int32)
        size = len(vertices)
        near = np.concatenate([ends[closed, 0], device[closed], np.zeros_like(sources)])
        far = np.concatenate([device[closed], ends[closed, 1], sources])
        wide = np.int64(size)
        pairs = np.sort(np.concatenate([near * wide + far, far * wide + near]))
        pairs = pairs[np.diff(pairs, prepend=-1) != 0]
        graph = _Lists(pairs // size, pairs % size, size)
        parent = dominator_tree(graph.offsets, graph.targets, _ROOT)
        del graph, pairs
        energized = np.flatnonzero(parent >= 0)
        self._assemble(
            network,
            vertices,
            parent,
            _Lists(parent[energized], energized, size),
            _Lists(ends.ravel(), np.repeat(device, 2), size),
            None,
        )

    def _assemble(
        self,
        network: Network,
        vertices: _Vertices,
        parent: np.ndarray,
        children: _Lists,
        terminals: _Lists,
        counts: np.ndarray | None,
    ) -> None:
        self.network = network
        self._vertices = vertices
        self._parent = parent
        self._children = children
        self._terminals = terminals
        self._counts = counts
        self._levels = None
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
            topology._assemble(
                network, self._vertices, self._parent, self._children, self._terminals, self._counts
            )
            return topology
        vertices = self._vertices
        touched = [vertices.device(a) for a in links]
        touched += [
            vertices.node(n)
            for a in links
            for n in _ends(before.links.get(a)) + _ends(network.links.get(a))
        ]
        touched += [vertices.node(n) for n in sources + served]
        terminals = self._terminals
        if any(_ends(before.links.get(a)) != _ends(network.links.get(a)) for a in links):
            terminals = _reterminated(vertices, terminals, before.links, network.links, links)
        reoriented = _Reorientation(
            self, network, terminals, list(dict.fromkeys(touched)), from_root=bool(sources)
        )
        topology._assemble(
            network,
            vertices,
            reoriented.parent,
            reoriented.children,
            terminals,
            reoriented.counts,
        )
        return topology

    def _in_tree(self, vertex: int | None) -> bool:
        if vertex is None or vertex >= len(self._parent):
            return False
        return vertex == _ROOT or bool(self._parent[vertex] >= 0)

    def _parent_of(self, vertex: int) -> int:
        return int(self._parent[vertex]) if vertex < len(self._parent) else -1

    def is_energized(self, node_ref: str) -> bool:
        return self._in_tree(self._vertices.nodes.get(node_ref))

    def is_device_energized(self, asset_ref: str) -> bool:
        return self._in_tree(self._vertices.devices.get(asset_ref))

    def energized_nodes(self) -> frozenset[str]:
        refs = self._vertices.refs
        nodes = (self._parent >= 0) & ~self._vertices.device_mask(len(self._parent))
        return frozenset(refs[v] for v in np.flatnonzero(nodes).tolist())

    def devices_at(self, node_ref: str) -> Sequence[str]:
        """The devices, open or closed, that end at a node."""
        node = self._vertices.nodes.get(node_ref)
        if node is None:
            return ()
        refs = self._vertices.refs
        return tuple(refs[d] for d in self._terminals.get(node))

    def _whole_tree(self) -> list[np.ndarray]:
        """The energized vertices by depth, the root's level first."""
        if self._levels is None:
            parent = self._parent
            below = np.flatnonzero(parent >= 0)
            children = _Lists(parent[below], below, len(parent))
            levels = [np.array([_ROOT], dtype=np.int32)]
            while True:
                found = adjacent(children.offsets, children.targets, levels[-1])[1]
                if not found.size:
                    break
                levels.append(found)
            self._levels = levels
        return self._levels

    def _summed(self, own: np.ndarray) -> np.ndarray:
        """`own` summed up the tree: each energized vertex's own value and all below it's."""
        parent = self._parent
        for level in reversed(self._whole_tree()[1:]):
            np.add.at(own, parent[level], own[level])
        return own

    def sums_below(self, values: Mapping[str, complex]) -> Mapping[str, complex]:
        """For every energized device, the sum of `values` (by node) at or below it: on a
        radial network, the load each device carries (read-only).

        One pass over the tree; asked again for the same values object, this topology
        answers from memory, so the values must not change while it is in use.
        """
        if self._sums is not None and self._sums[0] is values:
            return self._sums[1]
        own = np.zeros(len(self._parent), dtype=complex)
        for ref, value in values.items():
            node = self._vertices.nodes.get(ref)
            if node is not None and node < len(own):
                own[node] = value
        sums = self._summed(own)
        refs = self._vertices.refs
        answer = {refs[v]: complex(sums[v]) for v in self._energized_devices().tolist()}
        self._sums = (values, answer)
        return answer

    def _energized_devices(self) -> np.ndarray:
        return np.flatnonzero((self._parent >= 0) & self._vertices.device_mask(len(self._parent)))

    def _subtree(self, start: int) -> list[int]:
        found = []
        stack = [start]
        while stack:
            vertex = stack.pop()
            found.append(vertex)
            stack.extend(self._children.get(vertex))
        return found

    def downstream(self, asset_ref: str) -> Trace:
        """Everything that loses supply when this device opens, with the devices met there.

        Open devices on the boundary (normally open ties, say) are listed too, since a
        dispatcher restoring the area needs them.
        """
        link = self.network.links[asset_ref]
        start = self._vertices.devices.get(asset_ref)
        if link.is_open or not self._in_tree(start):
            return Trace(devices=(), nodes=frozenset(), accounts=frozenset())
        assert start is not None
        refs, is_device = self._vertices.refs, self._vertices.is_device
        below = self._subtree(start)
        nodes = {refs[v] for v in below if not is_device[v]}
        devices = [refs[v] for v in below if is_device[v] and v != start]
        seen = set(devices) | {asset_ref}
        for node in sorted(nodes):
            for other in self.devices_at(node):
                if other not in seen and self.network.links[other].is_open:
                    devices.append(other)
                    seen.add(other)
        return Trace(devices=tuple(devices), nodes=frozenset(nodes), accounts=self._accounts(nodes))

    def accounts_below(self, asset_ref: str) -> frozenset[str]:
        """`downstream(asset_ref).accounts` alone, in a third of the time: one walk, no
        devices, no boundary."""
        start = self._vertices.devices.get(asset_ref)
        if self.network.links[asset_ref].is_open or not self._in_tree(start):
            return frozenset()
        assert start is not None
        refs, is_device = self._vertices.refs, self._vertices.is_device
        return self._accounts(refs[v] for v in self._subtree(start) if not is_device[v])

    def upstream(self, asset_ref: str) -> Trace:
        """The devices a source's power passes through to reach this device, nearest first."""
        return self._path_to_source(self._vertices.devices.get(asset_ref))

    def upstream_of_node(self, node_ref: str) -> Trace:
        return self._path_to_source(self._vertices.nodes.get(node_ref))

    def _path_to_source(self, vertex: int | None) -> Trace:
        devices: list[str] = []
        nodes: set[str] = set()
        refs, is_device = self._vertices.refs, self._vertices.is_device
        current = -1 if vertex is None else self._parent_of(vertex)
        while current > _ROOT:
            if is_device[current]:
                devices.append(refs[current])
            else:
                nodes.add(refs[current])
            current = int(self._parent[current])
        return Trace(devices=tuple(devices), nodes=frozenset(nodes), accounts=frozenset())

    def protective_chain(self, node_ref: str) -> tuple[str, ...]:
        """Protective devices between a node and its source, nearest first."""
        links = self.network.links
        return tuple(d for d in self.upstream_of_node(node_ref).devices if links[d].is_protective)

    def protective_chains(self, node_refs: Collection[str]) -> dict[str, tuple[str, ...]]:
        """`protective_chain` of many nodes at once: the walk above their common ancestors is
        shared, so a storm's hundred thousand customers cost one pass, not a walk each.
        Asked for a good part of the network (an engine starting), it finds every vertex's
        nearest protective device in one pass over the tree's levels instead."""
        if len(node_refs) * WHOLE_TREE_SHARE > len(self._parent):
            return self._chains_by_levels(node_refs)
        links = self.network.links
        refs, is_device, parent = self._vertices.refs, self._vertices.is_device, self._parent
        # a vertex's protective devices up to the source, itself first if it is one: each
        # vertex met holds the place of its chain in `found`, in an array rather than a map
        # of millions of Python integers when every customer is asked for
        found: list[tuple[str, ...]] = [()]
        known = np.full(len(parent), -1, dtype=np.int32)
        known[_ROOT] = 0
        chains = {}
        for node_ref in node_refs:
            node = self._vertices.nodes.get(node_ref)
            start = -1 if node is None else self._parent_of(node)
            path = []
            vertex = start
            while vertex >= 0 and known[vertex] < 0:
                path.append(vertex)
                vertex = int(parent[vertex])
            place = int(known[vertex]) if vertex >= 0 else 0
            for vertex in reversed(path):
                if is_device[vertex] and links[refs[vertex]].is_protective:
                    found.append((refs[vertex], *found[place]))
                    place = len(found) - 1
                known[vertex] = place
            chains[node_ref] = found[int(known[start])] if start >= 0 else ()
        return chains

    def _chains_by_levels(self, node_refs: Iterable[str]) -> dict[str, tuple[str, ...]]:
        refs, parent, devices = self._vertices.refs, self._parent, self._vertices.devices
        is_protective = np.zeros(len(parent), dtype=bool)
        protective = [devices[a] for a in devices_of_kinds(self.network.links, PROTECTIVE_KINDS)]
        is_protective[[v for v in protective if v < len(parent)]] = True
        nearest = np.full(len(parent), -1, dtype=np.int32)  # the nearest at or above; -1: none
        chain_of: dict[int, tuple[str, ...]] = {-1: ()}
        for level in self._whole_tree()[1:]:
            nearest[level] = np.where(is_protective[level], level, nearest[parent[level]])
            found = level[is_protective[level]]
            for device, above in zip(found.tolist(), nearest[parent[found]].tolist(), strict=True):
                chain_of[device] = (refs[device], *chain_of[above])
        chains = {}
        for node_ref in node_refs:
            node = self._vertices.nodes.get(node_ref)
            start = -1 if node is None else self._parent_of(node)
            chains[node_ref] = chain_of[int(nearest[start])] if start >= 0 else ()
        return chains

    def customer_counts(self) -> Mapping[str, int]:
        """Customers downstream of every energized device (read-only).

        One pass over the tree the first time; switched topologies keep the figures up to
        date, so later calls cost nothing.
        """
        if self._counts is None:
            own = np.zeros(len(self._parent), dtype=np.int32)
            for ref, accounts in self.network.accounts_at.items():
                node = self._vertices.nodes.get(ref)
                if node is not None and node < len(own):
                    own[node] = len(accounts)
            self._counts = self._summed(own)
        return _DeviceCounts(self._vertices, self._parent, self._counts)

    def _accounts(self, nodes: Iterable[str]) -> frozenset[str]:
        accounts_at = self.network.accounts_at
        return frozenset(a for node in nodes for a in accounts_at.get(node, ()))

    def nearest_upstream(self, heads: Collection[str]) -> Ownership:
        """For every energized node and device, the nearest of `heads` at or above it.

        Answers "which feeder is this on?" and "which transformer serves this premise?" for
        the whole network in one pass.
        """
        size = len(self._parent)
        devices = self._vertices.devices
        owner = np.full(size, -1, dtype=np.int32)
        found = [devices[h] for h in heads if h in devices]
        is_head = np.zeros(size, dtype=bool)
        is_head[[v for v in found if v < size]] = True
        parent = self._parent
        for level in self._whole_tree()[1:]:
            owner[level] = np.where(is_head[level], level, owner[parent[level]])
        refs, is_device = self._vertices.refs, self._vertices.is_device
        ownership = Ownership(nodes={}, devices={})
        for vertex in np.flatnonzero(owner >= 0).tolist():
            (ownership.devices if is_device[vertex] else ownership.nodes)[refs[vertex]] = refs[
                owner[vertex]
            ]
        return ownership

    def sections_below(self, asset_ref: str, is_head: Callable[[Link], bool]) -> dict[str, str]:
        """Account -> the nearest device at or above it, below `asset_ref`, for which
        `is_head` holds (`asset_ref` itself when there is none in between): the sections a
        restoration is verified by, in one walk of what the device feeds."""
        start = self._vertices.devices.get(asset_ref)
        if self.network.links[asset_ref].is_open or not self._in_tree(start):
            return {}
        assert start is not None
        links, refs, is_device = self.network.links, self._vertices.refs, self._vertices.is_device
        owned: dict[str, str] = {}
        stack: list[tuple[int, str]] = [(start, asset_ref)]
        while stack:
            vertex, owner = stack.pop()
            ref = refs[vertex]
            if is_device[vertex] and is_head(links[ref]):
                owner = ref
            elif not is_device[vertex]:
                owned[ref] = owner
            stack.extend((child, owner) for child in self._children.get(vertex))
        accounts_at = self.network.accounts_at
        return {a: owner for node, owner in owned.items() for a in accounts_at.get(node, ())}


class _DeviceCounts(Mapping[str, int]):
    """The customers below each energized device, read from a topology's arrays."""

    def __init__(self, vertices: _Vertices, parent: np.ndarray, counts: np.ndarray) -> None:
        self._vertices, self._parent, self._counts = vertices, parent, counts

    def _vertex(self, asset_ref: object) -> int | None:
        vertex = self._vertices.devices.get(asset_ref) if isinstance(asset_ref, str) else None
        if vertex is None or vertex >= len(self._parent) or self._parent[vertex] < 0:
            return None
        return vertex

    def __getitem__(self, asset_ref: str) -> int:
        vertex = self._vertex(asset_ref)
        if vertex is None:
            raise KeyError(asset_ref)
        return int(self._counts[vertex])

    def __contains__(self, asset_ref: object) -> bool:
        return self._vertex(asset_ref) is not None

    def __iter__(self) -> Iterator[str]:
        devices = (self._parent >= 0) & self._vertices.device_mask(len(self._parent))
        refs = self._vertices.refs
        return (refs[v] for v in np.flatnonzero(devices).tolist())

    def __len__(self) -> int:
        mask = self._vertices.device_mask(len(self._parent))
        return int(np.count_nonzero((self._parent >= 0) & mask))


def _ends(link: Link | None) -> tuple[str, ...]:
    return (link.from_node, link.to_node) if link is not None else ()


def _reterminated(
    vertices: _Vertices,
    terminals: _Lists,
    before: Mapping[str, Link],
    after: Mapping[str, Link],
    asset_refs: Iterable[str],
) -> _Lists:
    """The devices ending at each node, once these devices have their new ends (or none)."""
    edited = terminals.edited()
    for asset_ref in asset_refs:
        old, new = _ends(before.get(asset_ref)), _ends(after.get(asset_ref))
        if old == new:
            continue
        device = vertices.devices[asset_ref]
        for node in map(vertices.nodes.__getitem__, dict.fromkeys(old)):
            edited[node] = tuple(d for d in edited.get(node) if d != device)
        for node in map(vertices.nodes.__getitem__, dict.fromkeys(new)):
            edited[node] = (*edited.get(node), device)
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
    that work is the change itself. The arrays are copied whole, which costs milliseconds
    even for millions of vertices.
    """

    def __init__(
        self,
        before: Topology,
        network: Network,
        terminals: _Lists,
        touched: list[int],
        *,
        from_root: bool,
    ) -> None:
        """`touched`: the changed devices, their terminals before and after, and the nodes
        whose customers changed; `from_root`: sources changed."""
        self.before = before
        self.network = network
        self.terminals = terminals
        self.vertices = before._vertices
        size = len(self.vertices)
        self.parent = _grown(before._parent, size, -1)
        self.children = before._children.edited()
        self.counts = _grown(before._counts, size, 0) if before._counts is not None else None
        chains = [self._chain(v) for v in touched if before._in_tree(v)]
        if from_root:
            chains.append([_ROOT])
        if not chains:
            return  # only unsupplied parts changed: they stay unsupplied
        others = [set(chain) for chain in chains[1:]]
        top = next(v for v in chains[0] if all(v in other for other in others))
        on_paths = {v for chain in chains for v in chain[: chain.index(top)]}
        region = self._region(touched, top, on_paths)
        opened = {v for v in touched if before._in_tree(v) and not self._in_graph(v)}
        self._rewire(top, region | opened, self._dominators(top, region))

    def _chain(self, vertex: int) -> list[int]:
        """The vertex and its ancestors in the old tree, up to the root."""
        chain = [vertex]
        while chain[-1] != _ROOT:
            chain.append(int(self.before._parent[chain[-1]]))
        return chain

    def _in_graph(self, vertex: int) -> bool:
        if not self.vertices.is_device[vertex]:
            return True
        link = self.network.links.get(self.vertices.refs[vertex])
        return link is not None and not link.is_open

    def _neighbours(self, vertex: int) -> Iterator[int]:
        """Neighbours in the switched graph."""
        links, refs, nodes = self.network.links, self.vertices.refs, self.vertices.nodes
        if self.vertices.is_device[vertex]:
            link = links[refs[vertex]]
            yield nodes[link.from_node]
            yield nodes[link.to_node]
        else:
            for device in self.terminals.get(vertex):
                if not links[refs[device]].is_open:
                    yield device

    def _region(self, touched: list[int], top: int, on_paths: set[int]) -> set[int]:
        """The vertices to orient again: reachable from the changes without passing `top` or
        stepping down from a vertex that is no ancestor of a change (off `on_paths`)."""
        parent_of = self.before._parent_of
        region = {v for v in touched if v != top and self._in_graph(v)}
        stack = list(region)
        while stack:
            vertex = stack.pop()
            for other in self._neighbours(vertex):
                if other == top or other in region:
                    continue
                if vertex not in on_paths and parent_of(other) == vertex:
                    continue
                region.add(other)
                stack.append(other)
        return region

    def _dominators(self, top: int, region: set[int]) -> dict[int, int]:
        """New parents of the region's vertices that are still supplied, found from `top`."""
        graph: dict[int, set[int]] = {top: set()}

        def join(a: int, b: int) -> None:
            graph.setdefault(a, set()).add(b)
            graph.setdefault(b, set()).add(a)

        sources, refs, is_device = self.network.sources, self.vertices.refs, self.vertices.is_device
        for vertex in region:
            graph.setdefault(vertex, set())
            if not is_device[vertex] and refs[vertex] in sources:
                join(_ROOT, vertex)
            for other in self._neighbours(vertex):
                if other in region or other == top:
                    join(other, vertex)
        idom = immediate_dominators(graph, top)
        return {v: p for v, p in idom.items() if v in region}

    def _rewire(self, top: int, stale: set[int], parent_of: dict[int, int]) -> None:
        """Replace the stale vertices' places in the tree (their old parents are stale or
        `top`), keeping the untouched subtrees below them, and bring the counts along."""
        old_children = self.before._children
        kept = {v: [c for c in old_children.get(v) if c not in stale] for v in stale}
        children = {top: [c for c in old_children.get(top) if c not in stale]}
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

    def _drop(self, vertex: int) -> None:
        self.parent[vertex] = -1
        self.children[vertex] = ()
        if self.counts is not None:
            self.counts[vertex] = 0

    def _own(self, network: Network, vertex: int) -> int:
        if self.vertices.is_device[vertex]:
            return 0
        return len(network.accounts_at.get(self.vertices.refs[vertex], ()))

    def _recount(self, top: int, stale: set[int], parent_of: dict[int, int]) -> None:
        """Count the re-oriented vertices bottom up, then pass the difference up from `top`
        (whose own customers may have changed too)."""
        assert self.counts is not None and self.before._counts is not None
        counts, old = self.counts, self.before._counts
        order: list[int] = []
        stack = [c for c in self.children.get(top) if c in parent_of]
        while stack:
            vertex = stack.pop()
            order.append(vertex)
            stack.extend(c for c in self.children.get(vertex) if c in parent_of)
        for vertex in reversed(order):
            counts[vertex] = self._own(self.network, vertex) + sum(
                int(counts[child]) for child in self.children.get(vertex)
            )
        gained = sum(int(counts[v]) for v in self.children.get(top) if v in parent_of)
        lost = sum(int(old[v]) for v in self.before._children.get(top) if v in stale)
        gained += self._own(self.network, top) - self._own(self.before.network, top)
        vertex = top
        while vertex != _ROOT:
            counts[vertex] += gained - lost
            vertex = int(self.parent[vertex])
