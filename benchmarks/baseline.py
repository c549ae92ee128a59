"""The topology-blind baseline: cluster the reports on the map, then name one device each.

This is what a map-only outage system does. The callers' premises are projected to metres
(a local equirectangular projection, exact enough over a city) and clustered with DBSCAN
(eps 150 m, min_samples 1). With min_samples 1 every report is a core point, so clusters
are the groups of reports chained together by gaps under 150 m, and a lone report is a
cluster of its own: that gives the baseline its best chance on the many small LV outages
that bring one or two calls. Each cluster then names the lowest protective device upstream
of all its customers (their nearest common device).

DBSCAN is a few lines here over a grid of eps-sized cells, so `outage bench` needs no
machine-learning stack.
"""

import math
from collections.abc import Iterable, Mapping, Sequence

from grid_topology.model import Coordinate
from grid_topology.topology import Topology

EPS_M = 150.0
"""Reports closer than this are neighbours."""
MIN_SAMPLES = 1
"""Neighbours (the report included) that make a report a core point."""
EARTH_RADIUS_M = 6_371_000.0

Point = tuple[float, float]


def to_metres(locations: Sequence[Coordinate]) -> list[Point]:
    """Local equirectangular projection of (lon, lat) around the points' mean latitude."""
    if not locations:
        return []
    lat0 = math.radians(sum(lat for _, lat in locations) / len(locations))
    scale = math.cos(lat0)
    return [
        (
            EARTH_RADIUS_M * math.radians(lon) * scale,
            EARTH_RADIUS_M * math.radians(lat),
        )
        for lon, lat in locations
    ]


def dbscan(points: Sequence[Point], *, eps: float, min_samples: int) -> list[int]:
    """DBSCAN labels per point, clusters numbered from 0, -1 for noise."""
    cells: dict[tuple[int, int], list[int]] = {}
    for i, (x, y) in enumerate(points):
        cells.setdefault((math.floor(x / eps), math.floor(y / eps)), []).append(i)

    def neighbours(i: int) -> list[int]:
        x, y = points[i]
        cx, cy = math.floor(x / eps), math.floor(y / eps)
        return [
            j
            for dx in (-1, 0, 1)
            for dy in (-1, 0, 1)
            for j in cells.get((cx + dx, cy + dy), ())
            if (points[j][0] - x) ** 2 + (points[j][1] - y) ** 2 <= eps * eps
        ]

    around = [neighbours(i) for i in range(len(points))]
    core = [len(n) >= min_samples for n in around]
    labels = [-1] * len(points)
    cluster = 0
    for seed in range(len(points)):
        if not core[seed] or labels[seed] != -1:
            continue
        labels[seed] = cluster
        stack = [seed]
        while stack:
            i = stack.pop()
            for j in around[i]:
                if labels[j] == -1:
                    labels[j] = cluster
                    if core[j]:
                        stack.append(j)
        cluster += 1
    return labels


def common_device(chains: Iterable[Sequence[str]]) -> str | None:
    """The lowest device present in every chain (each listed nearest first)."""
    chains = list(chains)
    if not chains:
        return None
    shared = set(chains[0]).intersection(*chains[1:])
    return next((device for device in chains[0] if device in shared), None)


class SpatialBaseline:
    """Predicts faulted devices from report locations alone, topology only to name them."""

    def __init__(
        self,
        topology: Topology,
        locations: Mapping[str, Coordinate],
        *,
        eps_m: float = EPS_M,
        min_samples: int = MIN_SAMPLES,
    ) -> None:
        """`locations`: account -> premise location."""
        self.topology = topology
        self.locations = locations
        self.eps_m = eps_m
        self.min_samples = min_samples
        self.node_of = {
            account: node
            for node, accounts in topology.network.accounts_at.items()
            for account in accounts
        }
        self._chains: dict[str, tuple[str, ...]] = {}

    def _chain(self, account: str) -> tuple[str, ...]:
        node = self.node_of[account]
        if node not in self._chains:
            self._chains[node] = self.topology.protective_chain(node)
        return self._chains[node]

    def predict(self, accounts: Iterable[str]) -> list[str]:
        """One device per cluster of the reporting accounts (none for DBSCAN noise)."""
        reporting = sorted({a for a in accounts if a in self.locations and a in self.node_of})
        points = to_metres([self.locations[a] for a in reporting])
        labels = dbscan(points, eps=self.eps_m, min_samples=self.min_samples)
        clusters: dict[int, list[str]] = {}
        for account, label in zip(reporting, labels, strict=True):
            if label >= 0:
                clusters.setdefault(label, []).append(account)
        devices = {common_device(self._chain(a) for a in members) for members in clusters.values()}
        return sorted(d for d in devices if d is not None)
