"""The network around a place, as plain paths: what a crew's sketch of a job draws.

A crew's phone may have no map tiles in a storm, so the crew page draws its own sketch of
the lines and devices near each job from our records. The search is a box around the
place (the devices' spatial index answers it), nearest first.
"""

import json
import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grid_topology.model import Coordinate, DeviceKind
from outage.grid.models import Device

METRES_PER_DEGREE = 111_320.0
"""Along the equator, and along a meridian near enough for a sketch."""


@dataclass(frozen=True)
class NearbyDevice:
    asset_ref: str
    kind: DeviceKind
    is_open: bool
    paths: tuple[tuple[Coordinate, ...], ...]
    """Each a run of (lon, lat) points: a line's course, or a device's one point."""


def _paths(geojson: str) -> list[tuple[Coordinate, ...]]:
    """The paths of a GeoJSON point, line or collection of them."""
    shape = json.loads(geojson)
    kind, coordinates = shape["type"], shape.get("coordinates")
    if kind == "Point":
        return [((coordinates[0], coordinates[1]),)]
    if kind in ("LineString", "MultiPoint"):
        return [tuple((x, y) for x, y, *_ in coordinates)]
    if kind == "MultiLineString":
        return [tuple((x, y) for x, y, *_ in line) for line in coordinates]
    if kind == "GeometryCollection":
        return [path for part in shape["geometries"] for path in _paths(json.dumps(part))]
    return []


def devices_near(
    session: Session, place: Coordinate, *, radius_m: float, limit: int
) -> list[NearbyDevice]:
    """The devices of the network within about `radius_m` of `place` (a box that wide each
    way), nearest first, at most `limit`; a retired device is no longer in the network."""
    lon, lat = place
    here = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    across = radius_m / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    box = func.ST_Expand(here, across, radius_m / METRES_PER_DEGREE)
    rows = session.execute(
        select(Device.asset_ref, Device.kind, Device.is_open, func.ST_AsGeoJSON(Device.geom, 6))
        .where(Device.retired_in.is_(None), Device.geom.op("&&")(box))
        .order_by(Device.geom.op("<->")(here), Device.asset_ref)
        .limit(limit)
    ).tuples()
    return [
        NearbyDevice(ref, DeviceKind(kind), is_open, tuple(_paths(geojson)))
        for ref, kind, is_open, geojson in rows
    ]
