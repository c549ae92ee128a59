"""Travel time between places: great-circle distance by default, a road router if given.

`TravelTime` is what the optimiser needs. `GreatCircleTravel` estimates it from the
straight-line distance times a road factor, at a speed that depends on the area; an adapter
to a road router (OSRM's or Valhalla's table service) implements the same two methods.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from grid_topology.model import Coordinate

EARTH_RADIUS_M = 6_371_008.8
"""Mean radius (IUGG)."""

ROAD_FACTOR = 1.3
"""Road distance over straight-line distance, where no router says better."""

SPEED_KMH = 30.0
"""Crews' average speed outside any `SpeedArea`."""


class TravelTime(Protocol):
    def seconds(self, origin: Coordinate, destination: Coordinate) -> float:
        """Driving time from one place to another."""
        ...

    def matrix(self, points: Sequence[Coordinate]) -> list[list[int]]:
        """Whole seconds (rounded up) from every point to every point; 0 on the diagonal."""
        ...


def great_circle_m(a: Coordinate, b: Coordinate) -> float:
    """Haversine distance in metres between two (lon, lat) points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class SpeedArea:
    """A box (in degrees) where crews drive at their own speed: a city centre, the hills."""

    name: str
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float
    speed_kmh: float

    def contains(self, point: Coordinate) -> bool:
        lon, lat = point
        return self.min_lon <= lon <= self.max_lon and self.min_lat <= lat <= self.max_lat


@dataclass(frozen=True)
class GreatCircleTravel:
    """Straight-line distance x `road_factor`, at the speed of the area of the trip's midpoint.

    The first area in `areas` that holds the midpoint gives the speed, `speed_kmh` where
    none does.
    """

    road_factor: float = ROAD_FACTOR
    speed_kmh: float = SPEED_KMH
    areas: tuple[SpeedArea, ...] = ()

    def speed_at(self, point: Coordinate) -> float:
        return next((a.speed_kmh for a in self.areas if a.contains(point)), self.speed_kmh)

    def seconds(self, origin: Coordinate, destination: Coordinate) -> float:
        if origin == destination:
            return 0.0
        midpoint = ((origin[0] + destination[0]) / 2, (origin[1] + destination[1]) / 2)
        metres = great_circle_m(origin, destination) * self.road_factor
        return metres / (self.speed_at(midpoint) / 3.6)

    def matrix(self, points: Sequence[Coordinate]) -> list[list[int]]:
        """`seconds` between every two points, in arrays: a storm's plan asks for hundreds
        of thousands at a time."""
        if not points:
            return []
        lon, lat = np.radians(np.asarray(points, dtype=float)).T
        h = (
            np.sin((lat[None, :] - lat[:, None]) / 2) ** 2
            + np.cos(lat[:, None])
            * np.cos(lat[None, :])
            * np.sin((lon[None, :] - lon[:, None]) / 2) ** 2
        )
        metres = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))) * self.road_factor
        seconds = np.ceil(metres / (self._speeds(np.asarray(points, dtype=float)) / 3.6))
        upper = np.triu(seconds, 1)  # symmetric: the midpoint and the distance both ways
        return (upper + upper.T).astype(int).tolist()  # type: ignore[no-any-return]

    def _speeds(self, points: "np.ndarray[Any, np.dtype[np.float64]]") -> Any:
        """The speed of every trip between two points, by the area of its midpoint."""
        mid_lon = (points[:, 0][:, None] + points[:, 0][None, :]) / 2
        mid_lat = (points[:, 1][:, None] + points[:, 1][None, :]) / 2
        speeds = np.full(mid_lon.shape, self.speed_kmh)
        placed = np.zeros(mid_lon.shape, dtype=bool)
        for area in self.areas:
            inside = (
                ~placed
                & (area.min_lon <= mid_lon)
                & (mid_lon <= area.max_lon)
                & (area.min_lat <= mid_lat)
                & (mid_lat <= area.max_lat)
            )
            speeds[inside] = area.speed_kmh
            placed |= inside
        return speeds
