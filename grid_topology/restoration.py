"""Restoration by switching (FLISR): isolate the faulted section, feed the healthy rest again.

A *section* is what lies between switchable devices: nodes joined by closed lines and
transformers. After a protective device opens on a fault, the planner

1. isolates the faulted sections (and those with an active hazard) by opening the closed
   switchable devices on their boundary,
2. splits what is left dead into *islands* (joined by closed devices) and, for every island,
   considers cutting it at up to `Options.max_cuts` switchable devices on the paths between
   the points it can be fed from: the operated device (reclosing it feeds the part above
   the fault) and the open ties to live feeders,
3. gives every part at most one of those sources, keeping every element within its rating,
   and keeps the combinations that restore the most customers (critical ones weighted),
4. orders the steps so that every part is fed once its boundary is open (never a loop, not
   even for a moment) and the parts worth the most customers per second of switching come
   first, and times them: seconds for a remote-controlled device; for the others, the crew
   that gets there first (`Options.crews`), which travels as soon as it is free, gets
   ready on site and operates on the word once the step before is done: the steps go one
   after another, the crews' journeys and preparations overlap.

Capacity is the load-sum of a radial network: what an element carries is the demand of
everything it feeds. A source adds the demand of its part to every element between it and
the grid's source, and reverses the flow on the elements between its tie and the top of the
part; elements that keep their direction carry at most what they carried before the fault.

Plain data in, plain answers out: no database, no HTTP.
"""

import itertools
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field

from grid_topology.model import SWITCHING_KINDS, Coordinate, GridModel
from grid_topology.topology import Topology

MANUAL_SECONDS = 45 * 60.0
"""Default time for a crew to reach a manual device and operate it, when no crew is known."""
OPERATE_SECONDS = 10 * 60.0
"""Default time for a crew on site to operate a manual device."""
WORD_SECONDS = 60.0
"""Default time for a crew ready at a device to operate it once told to."""
ISLAND_CHOICES = 8
"""Best ways of feeding each island kept when combining islands."""
CHAINS = 3
"""Ties between the pieces of an island tried closed, in every combination."""
CANDIDATE_CUTS = 24
"""Switchable devices an island may be cut at: those between its sources first."""
COMBINATIONS = 4096
"""Largest number of island combinations searched exhaustively; beyond, islands are greedy."""


def _nowhere(asset_ref: str) -> Coordinate | None:
    return None


def _no_travel(origin: Coordinate, destination: Coordinate) -> float:
    return 0.0


@dataclass(frozen=True)
class GridData:
    """What the checks and the timeline need beyond connectivity; every part may be empty."""

    loads: Mapping[str, complex] = field(default_factory=dict)
    """Node ref -> demand in kVA, as P + jQ."""
    ratings: Mapping[str, float] = field(default_factory=dict)
    """asset_ref -> kVA; elements without a rating are not checked."""
    remote: frozenset[str] = frozenset()
    """asset_refs of the remote-controlled devices."""
    critical: frozenset[str] = frozenset()
    """Accounts to restore first."""

    @classmethod
    def from_model(cls, model: GridModel) -> "GridData":
        loads: dict[str, complex] = {}
        for premise in model.premises:
            if premise.load_kw is not None:
                demand = complex(premise.load_kw, premise.load_kvar or 0.0)
                loads[premise.node] = loads.get(premise.node, 0) + demand
        return cls(
            loads=loads,
            ratings={d.asset_ref: d.rating_kva for d in model.devices if d.rating_kva},
            remote=frozenset(d.asset_ref for d in model.devices if d.remote_controlled),
            critical=frozenset(p.customer.account for p in model.premises if p.customer.critical),
        )


@dataclass(frozen=True)
class Crews:
    """The crews that operate manual devices, for the timeline. Without a start (no crew
    known) or a place for the device, a manual step takes `unknown_seconds`."""

    starts: tuple[Coordinate, ...] = ()
    """Where each crew is when the plan starts."""
    place: Callable[[str], Coordinate | None] = _nowhere
    """asset_ref -> where a crew operates it."""
    travel: Callable[[Coordinate, Coordinate], float] = _no_travel
    """Seconds to drive from one place to another."""
    operate_seconds: float = OPERATE_SECONDS
    """On site before the device is operated: access, checks, the operation itself."""
    word_seconds: float = WORD_SECONDS
    """From the step before to a crew standing ready having operated: the control room's
    word and the crew's confirmation."""
    unknown_seconds: float = MANUAL_SECONDS


@dataclass(frozen=True)
class Options:
    margin: float = 1.0
    """Share of a rating a plan may load an element to."""
    remote_seconds: float = 30.0
    crews: Crews = Crews()
    repair_seconds: float = 4 * 3600.0
    """How long customers would wait for the repair: the horizon of customer-minutes saved."""
    critical_weight: float = 10.0
    """A critical customer counts as this many others."""
    max_cuts: int = 2
    """Switchable devices an island may be cut at to feed its parts from different sides."""
    plans: int = 5


@dataclass(frozen=True)
class Incident:
    faulted: frozenset[str]
    """Nodes of the faulted sections (a node stands for its whole section)."""
    operated: tuple[str, ...] = ()
    """Protective devices that opened on the fault; taken as closed before it."""
    hazards: frozenset[str] = frozenset()
    """Nodes of sections that must not be re-energized (a line down, a crew at work)."""


@dataclass(frozen=True)
class Step:
    asset_ref: str
    open: bool
    at_seconds: float
    """When it is done, counted from the start of the plan."""
    restored: frozenset[str]
    """Accounts back on supply with this step."""


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    restored: frozenset[str]
    unsupplied: frozenset[str]
    """Accounts still without supply at the end, the faulted sections' included."""
    customer_minutes_saved: float
    radial: bool
    """Every closing joined a dead part to a live one: no loop at any step."""
    peak_loading: float
    """Highest share of its rating any checked element carries at the end."""
    most_loaded: str | None


def sections(topology: Topology, nodes: Iterable[str]) -> frozenset[str]:
    """The nodes of the sections (bounded by switchable devices) that hold these nodes."""
    links = topology.network.links
    seen = set(nodes)
    stack = list(seen)
    while stack:
        node = stack.pop()
        for asset_ref in topology.devices_at(node):
            link = links[asset_ref]
            if link.is_open or link.kind in SWITCHING_KINDS:
                continue
            other = link.to_node if link.from_node == node else link.from_node
            if other not in seen:
                seen.add(other)
                stack.append(other)
    return frozenset(seen)


def locate_fault(
    topology: Topology,
    operated: str,
    *,
    energized: Collection[str] = (),
    healthy: Collection[str] = (),
    fault_passed: Collection[str] = (),
    no_fault_passed: Collection[str] = (),
    found: Collection[str] = (),
) -> frozenset[str]:
    """The nodes of the sections below `operated` that the evidence leaves possible.

    `energized`: nodes known to have supply, so neither they nor their supply path are
    faulted; `healthy`: nodes a crew found clear; `fault_passed` / `no_fault_passed`:
    devices whose fault indicator did / did not see fault current (the fault is below the
    first, not below the second); `found`: nodes where a crew found the fault. Evidence
    that contradicts itself narrows nothing: the whole area below `operated` comes back.
    """
    before = _closed(topology, [operated])
    area = before.downstream(operated).nodes
    possible = set(area)
    for asset_ref in fault_passed:
        possible &= before.downstream(asset_ref).nodes
    for asset_ref in no_fault_passed:
        possible -= before.downstream(asset_ref).nodes
    clear = set(healthy)
    for node in energized:
        clear |= {node} | before.upstream_of_node(node).nodes
    possible -= sections(before, clear & area)
    if found:
        possible &= sections(before, found)
    kept = {node for node in possible if sections(before, [node]) <= possible}
    return frozenset(kept) if kept else area


def _closed(topology: Topology, devices: Iterable[str]) -> Topology:
    """The topology with these devices closed; the same object when they all are, so that
    what it has computed (the loads it carries) serves the next incident too."""
    links = topology.network.links
    changes = {d: False for d in devices if links[d].is_open}
    return topology.switched(changes) if changes else topology


@dataclass(frozen=True)
class _Source:
    device: str
    end: str
    """Its node in the island."""
    path: tuple[str, ...]
    """Elements the fed part's load passes through on the live side, the device included."""


@dataclass(frozen=True)
class _Feed:
    """One part of an island fed from one source."""

    source: _Source
    top: str
    load: complex
    weight: float
    flows: tuple[tuple[str, complex], ...]
    """Elements inside the part whose flow reverses, with what they carry then."""


@dataclass(frozen=True)
class _Choice:
    cuts: frozenset[str]
    feeds: tuple[_Feed, ...]

    @property
    def weight(self) -> float:
        return sum(feed.weight for feed in self.feeds)


@dataclass(frozen=True)
class _Piece:
    """Dead, healthy nodes joined by closed devices, as the fault left them."""

    nodes: frozenset[str]
    root: str
    """Where it was fed from before the fault."""


class _Island:
    """Dead, healthy pieces joined by closed devices and by open ties between pieces
    (`chains`: closing one feeds a piece from another once that one is fed), oriented from
    where the first piece was fed before the fault."""

    def __init__(
        self, area: "_Area", pieces: list[_Piece], ties: set[str], sources: list[_Source]
    ) -> None:
        self.area = area
        self.root = pieces[0].root
        self.sources = sources
        self.parent: dict[str, tuple[str, str]] = {}
        """Node -> (device, node) above it."""
        self.chains: set[str] = set()
        self.flipped: dict[str, str] = {}
        """Device -> its node away from the root, for the rated devices a chain turns around
        (and the chain itself): they carry what lies below them now, not what they did."""
        self._grow(pieces, ties)
        self.children: dict[str, list[str]] = {}
        for node, (_, above) in self.parent.items():
            self.children.setdefault(above, []).append(node)
        self.order: list[str] = []
        self.tin: dict[str, int] = {}
        self.tout: dict[str, int] = {}
        stack: list[tuple[str, bool]] = [(self.root, False)]
        while stack:
            node, done = stack.pop()
            if done:
                self.tout[node] = len(self.order)
                continue
            self.tin[node] = len(self.order)
            self.order.append(node)
            stack.append((node, True))
            stack.extend((child, False) for child in self.children.get(node, ()))
        self.load: dict[str, complex] = {}
        self.weight: dict[str, float] = {}
        for node in reversed(self.order):
            self.load[node] = self.load.get(node, 0) + area.data.loads.get(node, 0)
            self.weight[node] = self.weight.get(node, 0.0) + area.weight_at(node)
            if node in self.parent:
                above = self.parent[node][1]
                self.load[above] = self.load.get(above, 0) + self.load[node]
                self.weight[above] = self.weight.get(above, 0.0) + self.weight[node]
        self.cut_below = {self.parent[n][0]: n for n in self.order if n in self.parent}
        """Device inside the island -> its node away from the root."""
        self.candidates = self._candidate_cuts()

    def _grow(self, pieces: list[_Piece], ties: set[str]) -> None:
        """The tree of the island: each piece whole through its closed devices before any
        tie is crossed, so that a closed device is never left out of the tree."""
        links = self.area.before.network.links
        piece_of = {node: piece for piece in pieces for node in piece.nodes}
        seen = {self.root}
        closed = [self.root]
        crossings: list[tuple[str, str]] = []
        attached: list[tuple[str, _Piece]] = []
        while closed or crossings:
            if closed:
                node = closed.pop()
                for asset_ref in self.area.internal(node):
                    link = links[asset_ref]
                    other = link.to_node if link.from_node == node else link.from_node
                    if other in piece_of and other not in seen:
                        seen.add(other)
                        self.parent[other] = (asset_ref, node)
                        closed.append(other)
                crossings += [(d, node) for d in self.area.before.devices_at(node) if d in ties]
                continue
            tie, node = crossings.pop(0)
            link = links[tie]
            other = link.to_node if link.from_node == node else link.from_node
            if other in seen:
                continue  # a second tie between the same pieces stays open
            seen.add(other)
            self.parent[other] = (tie, node)
            self.chains.add(tie)
            attached.append((other, piece_of[other]))
            closed.append(other)
        rated = self.area.data.ratings
        for end, piece in attached:
            node = piece.root
            while node != end:
                device, above = self.parent[node]
                if rated.get(device):
                    self.flipped[device] = node
                node = above
            if rated.get(self.parent[end][0]):
                self.flipped[self.parent[end][0]] = end

    def below(self, node: str, other: str) -> bool:
        """`other` is `node` or lies below it."""
        return self.tin[node] <= self.tin[other] < self.tout[node]

    def _candidate_cuts(self) -> list[str]:
        """Switchable devices on the paths between the island's source ends (to split it
        between sources), then the others nearest a source end (to leave out what its
        source cannot carry), `CANDIDATE_CUTS` at most."""
        ends = {source.end for source in self.sources}
        between = self._between(ends) if len(ends) > 1 else []
        links = self.area.before.network.links
        found = dict.fromkeys(between)
        queue = sorted(ends)
        seen = set(queue)
        for node in queue:  # breadth first from the ends, the list growing as it goes
            if len(found) >= CANDIDATE_CUTS:
                break
            near = self.children.get(node, [])
            if node in self.parent:
                near = [*near, self.parent[node][1]]
            for other in sorted(near):
                if other in seen:
                    continue
                seen.add(other)
                queue.append(other)
                below = other if self.parent.get(other, ("", ""))[1] == node else node
                device = self.parent[below][0]
                switchable = links[device].kind in SWITCHING_KINDS and device not in self.chains
                if switchable and len(found) < CANDIDATE_CUTS:
                    found.setdefault(device)
        return list(found)

    def _between(self, ends: set[str]) -> list[str]:
        links = self.area.before.network.links
        marked: set[str] = set()
        for end in ends:
            node = end
            while node in self.parent and node not in marked:
                marked.add(node)
                node = self.parent[node][1]
        common = max(
            (n for n in [*marked, self.root] if all(self.below(n, e) for e in ends)),
            key=lambda n: self.tin[n],
        )
        return sorted(
            self.parent[n][0]
            for n in marked
            if n != common
            and self.below(common, n)
            and links[self.parent[n][0]].kind in SWITCHING_KINDS
            and self.parent[n][0] not in self.chains
        )

    def top_of(self, node: str, cuts: Collection[str]) -> str:
        """The top node of the part holding `node` once `cuts` are open."""
        tops = [self.cut_below[c] for c in cuts if self.below(self.cut_below[c], node)]
        return max(tops, key=lambda n: self.tin[n], default=self.root)

    def _cut_away(self, node: str, cuts: Collection[str]) -> tuple[complex, float]:
        """Load and weight below `node` that the cuts take out of its part."""
        inside = [self.cut_below[c] for c in cuts if self.cut_below[c] != node]
        inside = [q for q in inside if self.below(node, q)]
        outer = [q for q in inside if not any(o != q and self.below(o, q) for o in inside)]
        return sum((self.load[q] for q in outer), 0j), sum(self.weight[q] for q in outer)

    def choices(self, max_cuts: int) -> list[_Choice]:
        """Ways of feeding the island that fit on their own (two sources of one island
        may lean on the same element), best first."""
        found: list[_Choice] = []
        chains = sorted(self.chains)
        for closing in range(min(len(chains), CHAINS) + 1):
            for closed in itertools.combinations(chains[:CHAINS], closing):
                left_open = frozenset(chains) - frozenset(closed)
                for size in range(min(max_cuts, len(self.candidates)) + 1):
                    for cuts in itertools.combinations(self.candidates, size):
                        found += self._fed_parts(frozenset(cuts) | left_open)
        found.sort(key=lambda c: (-c.weight, len(c.cuts)))
        return found

    def _fed_parts(self, cuts: frozenset[str]) -> list[_Choice]:
        options: dict[str, list[_Feed | None]] = {}
        for top in [self.root, *(self.cut_below[c] for c in cuts)]:
            options[top] = [None]
        for source in self.sources:
            feed = self._feed(source, cuts)
            if feed is not None:
                options[feed.top].append(feed)
        choices = []
        for picked in itertools.product(*options.values()):
            feeds = tuple(f for f in picked if f is not None)
            if feeds and all(f.weight > 0 for f in feeds) and self.area.fits(feeds):
                choices.append(_Choice(cuts, feeds))
        return choices

    def _feed(self, source: _Source, cuts: frozenset[str]) -> _Feed | None:
        top = self.top_of(source.end, cuts)
        away_load, away_weight = self._cut_away(top, cuts)
        load = self.load[top] - away_load
        flows = []
        node = source.end
        while node != top:
            device, above = self.parent[node]
            below_load = self.load[node] - self._cut_away(node, cuts)[0]
            flows.append((device, load - below_load))
            node = above
        reversed_ = {device for device, _ in flows}
        for device, node in self.flipped.items():
            if device not in cuts and device not in reversed_ and self.top_of(node, cuts) == top:
                flows.append((device, self.load[node] - self._cut_away(node, cuts)[0]))
        feed = _Feed(source, top, load, self.weight[top] - away_weight, tuple(flows))
        return feed if self.area.fits([feed]) else None

    def closings(self, feed: _Feed, cuts: frozenset[str]) -> list[tuple[str, frozenset[str]]]:
        """The source's closing, then the chains inside its part outward from it, each with
        the accounts it brings back."""
        links = self.area.before.network.links
        accounts_at = self.area.before.network.accounts_at
        done: list[tuple[str, frozenset[str]]] = []
        reached: set[str] = set()
        waiting = [(feed.source.device, feed.source.end)]
        while waiting:
            device, start = waiting.pop(0)
            part = self._joined(start, cuts | self.chains)
            reached |= part
            done.append((device, frozenset(a for n in part for a in accounts_at.get(n, ()))))
            for node in part:
                for chain in self._edges(node) & (self.chains - cuts):
                    link = links[chain]
                    other = link.to_node if link.from_node == node else link.from_node
                    if other not in reached and all(chain != d for d, _ in waiting):
                        waiting.append((chain, other))
        return done

    def _edges(self, node: str) -> set[str]:
        """The island's devices at a node."""
        edges = {self.parent[child][0] for child in self.children.get(node, ())}
        if node in self.parent:
            edges.add(self.parent[node][0])
        return edges

    def _joined(self, start: str, open_: Collection[str]) -> set[str]:
        """Nodes joined to `start` by the island's devices that are not open."""
        links = self.area.before.network.links
        joined, stack = {start}, [start]
        while stack:
            node = stack.pop()
            for device in self._edges(node):
                if device in open_:
                    continue
                link = links[device]
                other = link.to_node if link.from_node == node else link.from_node
                if other not in joined:
                    joined.add(other)
                    stack.append(other)
        return joined


class _Area:
    """The incident's dead area, its islands and the live network around it."""

    def __init__(
        self, topology: Topology, incident: Incident, data: GridData, options: Options
    ) -> None:
        self.data = data
        self.options = options
        self._rated_paths: dict[str, tuple[str, ...]] = {}
        """Source device -> the rated elements of its path."""
        self.before = _closed(topology, incident.operated)
        links = self.before.network.links
        self.operated = frozenset(incident.operated)
        self.blocked = sections(self.before, incident.faulted)
        lost = self._isolate()
        hazards = sections(self.before, incident.hazards & lost)
        if hazards - self.blocked:
            self.blocked |= hazards
            lost = self._isolate()
        self.dead = lost - self.blocked
        self.lost = lost
        self.base = self._base_flows()
        self.islands = self._islands(lost)
        accounts_at = self.before.network.accounts_at
        self.accounts_out = frozenset(
            a for node in lost | self.blocked for a in accounts_at.get(node, ())
        )
        self.first = [
            d
            for d in self.isolation
            if any(
                end not in self.blocked and end not in lost and self.before.is_energized(end)
                for end in (links[d].from_node, links[d].to_node)
            )
        ]
        """Isolating devices with supply on their healthy side now: opened first of all."""

    def _isolate(self) -> set[str]:
        """Sets the devices bounding the blocked sections; returns what loses supply."""
        links = self.before.network.links
        self.isolation = sorted(
            {
                asset_ref
                for node in self.blocked
                for asset_ref in self.before.devices_at(node)
                if not links[asset_ref].is_open
                and links[asset_ref].kind in SWITCHING_KINDS
                and not {links[asset_ref].from_node, links[asset_ref].to_node} <= self.blocked
            }
        )
        self.opened = self.operated | frozenset(self.isolation)
        lost: set[str] = set()
        for asset_ref in self.opened:
            lost |= self.before.downstream(asset_ref).nodes
        return lost

    def _base_flows(self) -> dict[str, complex]:
        """What the live elements carry once the dead area is cut off: their load before
        the fault less the dead area's, which left through the opened devices."""
        flows = dict(self.before.sums_below(self.data.loads))
        for asset_ref in self.opened:
            if not self.before.is_device_energized(asset_ref):
                continue
            above = self.before.upstream(asset_ref).devices
            if not any(device in self.opened for device in above):
                for device in above:  # else its load left with the opened device above it
                    flows[device] -= flows[asset_ref]
        for asset_ref in self.opened:
            flows[asset_ref] = 0j  # open: a source through it starts from nothing
        return flows

    def weight_at(self, node: str) -> float:
        critical = self.data.critical
        return sum(
            self.options.critical_weight if a in critical else 1.0
            for a in self.before.network.accounts_at.get(node, ())
        )

    def internal(self, node: str) -> Iterable[str]:
        """Closed devices at a dead node that stay closed through isolation."""
        links = self.before.network.links
        for asset_ref in self.before.devices_at(node):
            if not links[asset_ref].is_open and asset_ref not in self.opened:
                yield asset_ref

    def _islands(self, lost: set[str]) -> list[_Island]:
        """The pieces of the dead area, grouped by the ties between them."""
        links = self.before.network.links
        pieces: list[_Piece] = []
        unassigned = set(self.dead)
        while unassigned:
            start = min(unassigned)
            unassigned.discard(start)
            nodes = {start}
            stack = [start]
            while stack:
                node = stack.pop()
                for asset_ref in self.internal(node):
                    link = links[asset_ref]
                    other = link.to_node if link.from_node == node else link.from_node
                    if other in unassigned:
                        unassigned.discard(other)
                        nodes.add(other)
                        stack.append(other)
            pieces.append(_Piece(frozenset(nodes), self._old_entry(nodes)))
        piece_at = {node: i for i, piece in enumerate(pieces) for node in piece.nodes}
        ties = self._ties()
        group = list(range(len(pieces)))

        def find(i: int) -> int:
            while group[i] != i:
                group[i] = group[group[i]]
                i = group[i]
            return i

        for tie in ties:
            link = links[tie]
            group[find(piece_at[link.from_node])] = find(piece_at[link.to_node])
        members: dict[int, list[_Piece]] = {}
        for i, piece in enumerate(pieces):
            members.setdefault(find(i), []).append(piece)
        islands = []
        for joined in members.values():
            nodes = set().union(*(piece.nodes for piece in joined))
            inside = {t for t in ties if links[t].from_node in nodes}
            islands.append(_Island(self, joined, inside, self._sources(nodes, lost)))
        return islands

    def _ties(self) -> set[str]:
        """Open switchable devices (the operated ones included) with a dead, healthy node at
        either end: closing one feeds a piece from another."""
        links = self.before.network.links
        return {
            asset_ref
            for node in self.dead
            for asset_ref in self.before.devices_at(node)
            if links[asset_ref].kind in SWITCHING_KINDS
            and (links[asset_ref].is_open or asset_ref in self.operated)
            and links[asset_ref].from_node in self.dead
            and links[asset_ref].to_node in self.dead
        }

    def _old_entry(self, nodes: set[str]) -> str:
        """The node through which the island was fed before the fault."""
        links = self.before.network.links
        for asset_ref in sorted(self.opened):
            link = links[asset_ref]
            for end in (link.from_node, link.to_node):
                if end in nodes and asset_ref in self.before.upstream_of_node(end).devices:
                    return end
        return min(nodes)

    def _sources(self, nodes: set[str], lost: set[str]) -> list[_Source]:
        links = self.before.network.links
        sources = []
        for node in sorted(nodes):
            for asset_ref in self.before.devices_at(node):
                link = links[asset_ref]
                switchable = link.kind in SWITCHING_KINDS
                if not switchable or not (link.is_open or asset_ref in self.operated):
                    continue
                other = link.to_node if link.from_node == node else link.from_node
                if other in lost or other in self.blocked or not self.before.is_energized(other):
                    continue
                path = (asset_ref, *self.before.upstream_of_node(other).devices)
                sources.append(_Source(asset_ref, node, path))
        return sources

    def fits(self, feeds: Iterable[_Feed]) -> bool:
        return self.loading(feeds)[0] <= self.options.margin

    def loading(self, feeds: Iterable[_Feed]) -> tuple[float, str | None]:
        """The highest share of its rating a rated element carries with these feeds.

        Only rated elements are followed: the combinations of islands ask this thousands
        of times, and a source's path to the grid's source is long."""
        ratings = self.data.ratings
        flows: dict[str, complex] = {}
        for feed in feeds:
            for element in self._rated_path(feed.source):
                flows[element] = flows.get(element, self.base.get(element, 0)) + feed.load
            flows.update((element, flow) for element, flow in feed.flows if ratings.get(element))
        worst, most = 0.0, None
        for element, flow in flows.items():
            share = abs(flow) / ratings[element]
            if share > worst:
                worst, most = share, element
        return worst, most

    def _rated_path(self, source: _Source) -> tuple[str, ...]:
        if source.device not in self._rated_paths:
            ratings = self.data.ratings
            self._rated_paths[source.device] = tuple(e for e in source.path if ratings.get(e))
        return self._rated_paths[source.device]


def plan_restoration(
    topology: Topology,
    incident: Incident,
    data: GridData | None = None,
    options: Options | None = None,
) -> list[Plan]:
    """Ranked switching plans for an incident: most customers (critical weighted) back at the
    end first, then most customer-minutes saved.

    `topology` is the network as operated, the operated devices either still closed or open.
    """
    area = _Area(topology, incident, data or GridData(), options or Options())
    per_island = [island.choices(area.options.max_cuts)[:ISLAND_CHOICES] for island in area.islands]
    combos = _combinations(area, per_island)
    plans = list(
        {
            tuple((s.asset_ref, s.open) for s in plan.steps): plan
            for plan in (_plan(area, combo) for combo in combos[: 2 * area.options.plans])
        }.values()
    )  # cuts that border no fed part make the same steps twice
    if not plans:
        plans = [_plan(area, [])]
    plans.sort(key=lambda p: (-_weight(area, p.restored), -p.customer_minutes_saved))
    return plans[: area.options.plans]


def _weight(area: _Area, accounts: Iterable[str]) -> float:
    critical = area.data.critical
    return sum(area.options.critical_weight if a in critical else 1.0 for a in accounts)


def _combinations(
    area: _Area, per_island: list[list[_Choice]]
) -> list[list[tuple[_Island, _Choice]]]:
    """Island choices that fit together, best first."""
    islands = [(island, choices) for island, choices in zip(area.islands, per_island, strict=True)]
    islands = [(island, choices) for island, choices in islands if choices]
    size = 1
    for _, choices in islands:
        size *= len(choices) + 1
    if size <= COMBINATIONS:
        found = []
        for picked in itertools.product(*([None, *choices] for _, choices in islands)):
            combo = [(i, c) for (i, _), c in zip(islands, picked, strict=True) if c is not None]
            if combo and area.fits(f for _, c in combo for f in c.feeds):
                found.append(combo)
        found.sort(key=lambda combo: (-sum(c.weight for _, c in combo), _operations(combo)))
        return found
    greedy: list[tuple[_Island, _Choice]] = []
    for island, choices in sorted(islands, key=lambda ic: -ic[1][0].weight):
        for choice in choices:
            if area.fits(f for _, c in [*greedy, (island, choice)] for f in c.feeds):
                greedy.append((island, choice))
                break
    return [greedy] if greedy else []


def _operations(combo: list[tuple[_Island, _Choice]]) -> int:
    return sum(len(choice.cuts) + len(choice.feeds) for _, choice in combo)


def _plan(area: _Area, combo: list[tuple[_Island, _Choice]]) -> Plan:
    """Steps for the chosen feeds, parts worth most per second of switching first."""
    links = area.before.network.links
    pending = []
    for island, choice in combo:
        for feed in choice.feeds:
            opens = [
                c
                for c in choice.cuts - island.chains
                if island.cut_below[c] == feed.top
                or island.top_of(island.parent[island.cut_below[c]][1], choice.cuts) == feed.top
            ]
            opens += [
                d
                for d in area.isolation
                if any(
                    end in island.tin and island.top_of(end, choice.cuts) == feed.top
                    for end in (links[d].from_node, links[d].to_node)
                )
            ]
            pending.append((feed, sorted(opens), island.closings(feed, choice.cuts)))
    done: set[str] = set()
    steps: list[Step] = []
    timeline = _Timeline(area)
    for device in area.first:
        done.add(device)
        steps.append(Step(device, True, timeline.operate(device), frozenset()))
    while pending:
        best = max(pending, key=lambda item: _worth(timeline, item[0], item[1], item[2], done))
        pending.remove(best)
        _, opens, closes = best
        for device in opens:
            if device not in done:
                done.add(device)
                steps.append(Step(device, True, timeline.operate(device), frozenset()))
        for device, accounts in closes:
            steps.append(Step(device, False, timeline.operate(device), accounts))
    restored = frozenset(a for step in steps for a in step.restored)
    horizon = area.options.repair_seconds
    saved = sum(len(s.restored) * max(0.0, horizon - s.at_seconds) / 60 for s in steps)
    peak, most = area.loading(f for _, c in combo for f in c.feeds)
    return Plan(
        steps=tuple(steps),
        restored=restored,
        unsupplied=area.accounts_out - restored,
        customer_minutes_saved=saved,
        radial=_radial(area, steps),
        peak_loading=peak,
        most_loaded=most,
    )


def _worth(
    timeline: "_Timeline",
    feed: _Feed,
    opens: list[str],
    closes: list[tuple[str, frozenset[str]]],
    done: set[str],
) -> float:
    """Customers (critical weighted) a part brings back per second of its switching."""
    todo = [d for d in opens if d not in done] + [d for d, _ in closes]
    return feed.weight / max(timeline.after(todo) - timeline.clock, 1.0)


class _Timeline:
    """When each step is done. Steps go one after another; a manual step goes to the crew
    that gets there first, which sets off as soon as it is free and gets ready on site
    while others operate, then operates on the control room's word once the step before
    it is done."""

    def __init__(self, area: _Area) -> None:
        self.area = area
        self.clock = 0.0
        self.crews: list[tuple[float, Coordinate]] = [(0.0, s) for s in area.options.crews.starts]
        """Each crew's (free from, where)."""

    def operate(self, device: str) -> float:
        """Do the step next; when it is done."""
        self.clock, self.crews = self._done(device, self.clock, self.crews)
        return self.clock

    def after(self, devices: Iterable[str]) -> float:
        """When these steps would be done if they came next; nothing changes."""
        clock, crews = self.clock, self.crews
        for device in devices:
            clock, crews = self._done(device, clock, crews)
        return clock

    def _done(
        self, device: str, clock: float, crews: list[tuple[float, Coordinate]]
    ) -> tuple[float, list[tuple[float, Coordinate]]]:
        """When the step is done after `clock`, and the crews after it."""
        options = self.area.options
        if device in self.area.data.remote:
            return clock + options.remote_seconds, crews
        there = options.crews.place(device)
        if there is None or not crews:
            return clock + options.crews.unknown_seconds, crews
        arrivals = [free + options.crews.travel(at, there) for free, at in crews]
        crew = min(range(len(arrivals)), key=arrivals.__getitem__)
        ready = arrivals[crew] + options.crews.operate_seconds
        done = max(ready, clock + options.crews.word_seconds)
        return done, [*crews[:crew], (done, there), *crews[crew + 1 :]]


def _radial(area: _Area, steps: list[Step]) -> bool:
    """Replays the steps on the dead area: each closing must join a live node (outside the
    area, or fed by an earlier step) to a dead part that holds no faulted or hazardous node
    and touches nothing live through a closed device; otherwise it would close a loop or
    energize what must stay dead."""
    links = area.before.network.links
    region = area.lost | area.blocked
    is_open = {d: links[d].is_open for n in region for d in area.before.devices_at(n)}
    is_open.update(dict.fromkeys(area.operated, True))
    live: set[str] = set()
    for step in steps:
        is_open[step.asset_ref] = step.open
        if step.open:
            continue
        link = links[step.asset_ref]
        dead = [end for end in (link.from_node, link.to_node) if end in region and end not in live]
        if len(dead) != 1:
            return False
        part = {dead[0]}
        stack = [dead[0]]
        while stack:
            node = stack.pop()
            for asset_ref in area.before.devices_at(node):
                if is_open[asset_ref] or asset_ref == step.asset_ref:
                    continue
                other = links[asset_ref]
                far = other.to_node if other.from_node == node else other.from_node
                if far not in region or far in live:
                    return False
                if far not in part:
                    part.add(far)
                    stack.append(far)
        if part & area.blocked:
            return False
        live |= part
    return True
