"""pandapower as the truth of who has supply: the oracle our traces are checked against.

Asking pandapower afresh for every device opened costs a rebuild of its whole graph (some
50 ms on a SimBench grid), and the oracle tests ask thousands of such questions. So the
graph pandapower builds for a switching state is kept while that state lasts, and "what if
this device opened too" takes out the edges pandapower itself would leave out with the
device open, asks pandapower's `unsupplied_buses` on that graph, and puts the edges back.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandapower as pp

Edge = tuple[Any, Any, tuple[str, int]]
"""An edge of pandapower's graph: two buses and the key (element table, index)."""


class Oracle:
    """Opens and closes elements in the pandapower net and asks which loads are unsupplied."""

    def __init__(self, net: Any) -> None:
        self.net = net
        self.switches = {name: i for i, name in net.switch.name.items()}
        self.lines = {name: i for i, name in net.line.name.items()}
        self.trafos = {name: i for i, name in net.trafo.name.items()}
        self.loads_at: dict[int, set[str]] = net.load.groupby("bus").name.apply(set).to_dict()
        self._graph: Any = None
        """pandapower's graph of the net as switched now, built on the first question."""
        self._edges: dict[tuple[str, int], list[Edge]] = {}
        """The graph's edges by key."""

    @contextmanager
    def switched(self, open_: list[str], close: list[str] = []) -> Iterator[None]:  # noqa: B006
        saved = []
        for asset_ref, closed in [(a, False) for a in open_] + [(a, True) for a in close]:
            table, column, index, value = self._element(asset_ref, closed)
            saved.append((table, column, index, table.at[index, column]))
            table.at[index, column] = value
        graph, edges = self._graph, self._edges
        self._graph, self._edges = None, {}
        try:
            yield
        finally:
            for table, column, index, value in reversed(saved):
                table.at[index, column] = value
            self._graph, self._edges = graph, edges

    def _element(self, asset_ref: str, closed: bool) -> tuple[Any, str, int, bool]:
        if asset_ref in self.switches:
            return self.net.switch, "closed", self.switches[asset_ref], closed
        element = asset_ref.removesuffix(" Fuse")  # fuses we add in front of an element
        if element in self.lines:
            return self.net.line, "in_service", self.lines[element], closed
        return self.net.trafo, "in_service", self.trafos[element], closed

    def unsupplied_accounts(self, opening: str | None = None) -> set[str]:
        """The loads without supply in the net as switched, or were `opening` opened too."""
        return {
            name for bus in self.unsupplied_buses(opening) for name in self.loads_at.get(bus, ())
        }

    def unsupplied_buses(self, opening: str | None = None) -> set[int]:
        """pandapower's unsupplied buses in the net as switched, or were `opening` opened too."""
        graph = self._current_graph()
        cut = [] if opening is None else self._cut(opening)
        kept = [(u, v, key, graph.edges[u, v, key]) for u, v, key in cut]
        graph.remove_edges_from(cut)
        try:
            return set(pp.topology.unsupplied_buses(self.net, mg=graph))
        finally:
            graph.add_edges_from(kept)

    def _current_graph(self) -> Any:
        if self._graph is None:
            self._graph = pp.topology.create_nxgraph(self.net, respect_switches=True)
            for u, v, key in self._graph.edges(keys=True):
                self._edges.setdefault(key, []).append((u, v, key))
        return self._graph

    def _cut(self, asset_ref: str) -> list[Edge]:
        """The edges pandapower leaves out of its graph once `asset_ref` is open.

        A bus-bus switch is an edge of its own; a switch at a line or transformer (and one of
        our fuses, which opens the element it stands in front of) takes out the element's
        edge; a switch at a three-winding transformer, the edges at its bus.
        """
        table, _, index, _ = self._element(asset_ref, closed=False)
        if table is self.net.line:
            return self._edges.get(("line", index), [])
        if table is self.net.trafo:
            return self._edges.get(("trafo", index), [])
        switch = self.net.switch.loc[index]
        if switch.et == "b":
            return self._edges.get(("switch", index), [])
        if switch.et == "t3":
            edges = self._edges.get(("trafo3w", switch.element), [])
            return [edge for edge in edges if switch.bus in edge[:2]]
        return self._edges.get(({"l": "line", "t": "trafo"}[switch.et], switch.element), [])
