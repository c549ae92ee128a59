"""pandapower as the truth of who has supply: the oracle our traces are checked against."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandapower as pp


class Oracle:
    """Opens and closes elements in the pandapower net and asks which loads are unsupplied."""

    def __init__(self, net: Any) -> None:
        self.net = net
        self.switches = {name: i for i, name in net.switch.name.items()}
        self.lines = {name: i for i, name in net.line.name.items()}
        self.trafos = {name: i for i, name in net.trafo.name.items()}
        self.loads_at: dict[int, set[str]] = net.load.groupby("bus").name.apply(set).to_dict()

    @contextmanager
    def switched(self, open_: list[str], close: list[str] = []) -> Iterator[None]:  # noqa: B006
        saved = []
        for asset_ref, closed in [(a, False) for a in open_] + [(a, True) for a in close]:
            table, column, index, value = self._element(asset_ref, closed)
            saved.append((table, column, index, table.at[index, column]))
            table.at[index, column] = value
        try:
            yield
        finally:
            for table, column, index, value in reversed(saved):
                table.at[index, column] = value

    def _element(self, asset_ref: str, closed: bool) -> tuple[Any, str, int, bool]:
        if asset_ref in self.switches:
            return self.net.switch, "closed", self.switches[asset_ref], closed
        element = asset_ref.removesuffix(" Fuse")  # fuses we add in front of an element
        if element in self.lines:
            return self.net.line, "in_service", self.lines[element], closed
        return self.net.trafo, "in_service", self.trafos[element], closed

    def unsupplied_accounts(self) -> set[str]:
        buses = pp.topology.unsupplied_buses(self.net)
        return {name for bus in buses for name in self.loads_at.get(bus, ())}
