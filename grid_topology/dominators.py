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
