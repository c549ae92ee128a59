"""Immediate dominators from biconnected blocks agree with the general algorithm."""

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from grid_topology.dominators import dominator_tree, immediate_dominators

_GRAPHS = st.integers(min_value=1, max_value=25).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n),
    )
)
"""A number of vertices and edges among them, loops and repeats included."""


def _graph(vertices: int, edges: list[tuple[int, int]]) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(range(vertices))
    graph.add_edges_from((a, b) for a, b in edges if a != b)
    return graph


def _general(graph: nx.Graph, root: int) -> dict[int, int]:
    found = nx.immediate_dominators(graph.to_directed(), root)
    return {vertex: above for vertex, above in found.items() if vertex != root}


@settings(max_examples=300, deadline=None)
@given(_GRAPHS)
def test_agrees_with_the_general_algorithm_on_any_graph(
    case: tuple[int, list[tuple[int, int]]],
) -> None:
    graph = _graph(*case)
    assert immediate_dominators(graph.adj, 0) == _general(graph, 0)


def test_a_ring_closed_by_a_tie_has_only_the_root_as_dominator() -> None:
    ring = nx.cycle_graph(6)
    assert immediate_dominators(ring.adj, 0) == {v: 0 for v in range(1, 6)}


def test_a_radial_feeder_is_its_own_tree() -> None:
    feeder = nx.Graph([(0, 1), (1, 2), (2, 3), (1, 4)])
    assert immediate_dominators(feeder.adj, 0) == {1: 0, 2: 1, 3: 2, 4: 1}


def test_what_the_root_cannot_reach_has_no_dominator() -> None:
    graph = nx.Graph([(0, 1), (2, 3)])
    assert immediate_dominators(graph.adj, 0) == {1: 0}


def _arrays(vertices: int, edges: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    pairs = sorted({(a, b) for a, b in edges if a != b} | {(b, a) for a, b in edges if a != b})
    offsets = np.zeros(vertices + 1, dtype=np.int64)
    np.add.at(offsets, [a + 1 for a, _ in pairs], 1)
    return np.cumsum(offsets), np.array([b for _, b in pairs], dtype=np.int32)


@settings(max_examples=300, deadline=None)
@given(_GRAPHS)
def test_dominator_tree_of_arrays_agrees_with_the_blocks(
    case: tuple[int, list[tuple[int, int]]],
) -> None:
    graph = _graph(*case)
    parent = dominator_tree(*_arrays(*case), 0)
    found = {v: int(p) for v, p in enumerate(parent) if p >= 0}
    assert found == immediate_dominators(graph.adj, 0)
