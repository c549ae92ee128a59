"""Immediate dominators in a graph whose edges run both ways, in time linear in its size.

The general algorithm (networkx's `immediate_dominators`, after Cooper, Harvey and Kennedy)
repeats passes until nothing changes, which takes seconds once a tie closed between two
feeders makes a long cycle. In a graph whose edges run both ways, a vertex dominates
another exactly when removing it separates that one from the root, so the dominator tree
follows from the biconnected blocks that one depth-first search finds (Tarjan): every
vertex of a block but the block's top, its vertex nearest the root, has that top as its
immediate dominator.
"""

from collections.abc import Hashable, Iterable, Iterator, Mapping
from typing import TypeVar

import numpy as np

V = TypeVar("V", bound=Hashable)


def immediate_dominators(adjacency: Mapping[V, Iterable[V]], root: V) -> dict[V, V]:
    """The immediate dominator of every vertex reachable from `root` (the root has none).

    `adjacency` must be symmetric: w among v's neighbours when v is among w's.
    """
    order = {root: 0}
    """Depth-first discovery order."""
    low = {root: 0}
    """The earliest vertex reachable from a vertex's subtree by one edge back."""
    above: dict[V, V] = {}
    """Depth-first tree parent."""
    idom: dict[V, V] = {}
    unplaced: list[V] = []
    """Discovered vertices whose block is not closed yet, latest last."""
    stack: list[tuple[V, Iterator[V]]] = [(root, iter(adjacency[root]))]
    while stack:
        vertex, neighbours = stack[-1]
        for other in neighbours:
            if other not in order:
                order[other] = low[other] = len(order)
                above[other] = vertex
                unplaced.append(other)
                stack.append((other, iter(adjacency[other])))
                break
            if other != above.get(vertex) and order[other] < low[vertex]:
                low[vertex] = order[other]
        else:
            stack.pop()
            if not stack:
                continue
            top = stack[-1][0]
            low[top] = min(low[top], low[vertex])
            if low[vertex] >= order[top]:
                # `top` closes the block holding the tree edge top-vertex: it dominates the
                # block's vertices, which are the latest unplaced ones down to `vertex`.
                while True:
                    placed = unplaced.pop()
                    idom[placed] = top
                    if placed == vertex:
                        break
    return idom


def dominator_tree(offsets: np.ndarray, targets: np.ndarray, root: int) -> np.ndarray:
    """`immediate_dominators` of a graph of millions of vertices numbered 0..n-1, given as
    adjacency arrays (vertex v's neighbours are `targets[offsets[v]:offsets[v + 1]]`):
    the parent of each vertex in the dominator tree, -1 for the root and what it cannot reach.

    A distribution network is a tree but for a few meshes, and the vertices of a tree are
    dominated by their parents: so a breadth-first search, run a level at a time in numpy,
    gives the answer but for the edges on a cycle (those on the tree path between the ends
    of an edge the search did not take), whose blocks alone `immediate_dominators` orients.
    """
    size = len(offsets) - 1
    parent = np.full(size, -1, dtype=np.int32)
    depth = np.full(size, -1, dtype=np.int32)
    depth[root] = 0
    frontier = np.array([root], dtype=np.int32)
    level = 0
    while frontier.size:
        level += 1
        before, reached = adjacent(offsets, targets, frontier)
        new = depth[reached] < 0
        found, first = np.unique(reached[new], return_index=True)
        parent[found] = before[new][first]
        depth[found] = level
        frontier = found.astype(np.int32)
    sources = np.repeat(np.arange(size, dtype=np.int32), np.diff(offsets))
    untaken = (
        (depth[sources] >= 0)
        & (sources < targets)
        & (parent[targets] != sources)
        & (parent[sources] != targets)
    )
    on_cycle: dict[int, list[int]] = {}
    """Vertex -> its neighbours by edges on a cycle."""
    for a, b in zip(sources[untaken].tolist(), targets[untaken].tolist(), strict=True):
        on_cycle.setdefault(a, []).append(b)
        on_cycle.setdefault(b, []).append(a)
        while a != b:
            if depth[a] < depth[b]:
                a, b = b, a
            above = int(parent[a])
            if above not in on_cycle.get(a, ()):
                on_cycle.setdefault(a, []).append(above)
                on_cycle.setdefault(above, []).append(a)
            a = above
    # a block's top is the one vertex of it whose edge to its parent is on no cycle
    tops = [v for v, others in on_cycle.items() if int(parent[v]) not in others]
    for top in tops:
        for vertex, above in immediate_dominators(on_cycle, top).items():
            parent[vertex] = above
    return parent


def adjacent(
    offsets: np.ndarray, targets: np.ndarray, vertices: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every edge from these vertices at once, as (its vertex, its neighbour) arrays."""
    starts, counts = offsets[vertices], offsets[vertices + 1] - offsets[vertices]
    shift = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return np.repeat(vertices, counts), targets[np.arange(int(counts.sum())) + shift]
