"""Travel on a plane of kilometres, for hand-worked dispatch tests: a minute a kilometre."""

import math
from collections.abc import Sequence

from grid_topology.model import Coordinate


class KmTravel:
    """Points are kilometres on a plane; crews drive a kilometre a minute."""

    def seconds(self, origin: Coordinate, destination: Coordinate) -> float:
        return 60 * math.dist(origin, destination)

    def matrix(self, points: Sequence[Coordinate]) -> list[list[int]]:
        return [[math.ceil(self.seconds(a, b)) for b in points] for a in points]
