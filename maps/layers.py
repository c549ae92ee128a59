"""The maps' data layers as GeoJSON, from plain rows: pure functions, no database, no HTTP.

The public map never shows a premise: customers out are counted per H3 cell, and a cell
with fewer than `min_customers` is merged into its parent cell or left off, so no
household can be picked out.
"""

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import h3

Feature = dict[str, Any]
"""One GeoJSON feature, ready for `json.dumps`."""


@dataclass(frozen=True)
class PublicOutage:
    """What the public may know of one active outage: no device, no premise, no person."""

    id: int
    started_at: datetime
    etr: datetime | None
    hazard: str | None
    cause: str | None
    """What the dispatcher or crew recorded as the cause, for customers to read."""
    share_out: float = 1.0
    """Of the customers it cut off, the share still out (after partial restorations)."""
    etr_earliest: datetime | None = None
    etr_latest: datetime | None = None
    """The range its restoration likely falls in; none for a crew's own time."""

    @property
    def estimate(self) -> tuple[datetime, datetime, datetime] | None:
        """Its ETR between the earliest and the latest its restoration likely comes (a
        crew's time alone is all three); None without an ETR."""
        if self.etr is None:
            return None
        return self.etr_earliest or self.etr, self.etr, self.etr_latest or self.etr


@dataclass(frozen=True)
class PremiseOut:
    """A premise cut off by an outage (or a planned one), with its customer count."""

    outage_id: int
    """The outage's id (or the planned outage's)."""
    premise_id: int
    lat: float
    lon: float
    customers: int


@dataclass(frozen=True)
class PlannedWork:
    """A planned outage (maintenance) and the premises it will cut off."""

    id: int
    starts_at: datetime
    ends_at: datetime
    premises: Sequence[tuple[float, float, int]]
    """(lat, lon, customers) of each premise concerned."""


@dataclass
class Cell:
    """What the public map says of one H3 cell."""

    cell: str
    customers_out: float = 0.0
    outages: set[int] = field(default_factory=set)
    since: datetime | None = None
    etr: datetime | None = None
    """The latest ETR of its outages: when the whole area should have power again."""
    etr_earliest: datetime | None = None
    etr_latest: datetime | None = None
    """The range the area's restorations likely fall in: the earliest of their ranges'
    earliest times, the latest of their latest."""
    etr_unknown: bool = False
    hazards: set[str] = field(default_factory=set)
    causes: set[str] = field(default_factory=set)
    names: dict[str, float] = field(default_factory=dict)
    """The area names (`area_name`) of its premises, by customers."""

    @property
    def name(self) -> str | None:
        """The area most of its customers out are in."""
        return min(self.names, key=lambda n: (-self.names[n], n)) if self.names else None

    def add_outage(self, outage: PublicOutage, customers: float, name: str | None = None) -> None:
        if name and customers:
            self.names[name] = self.names.get(name, 0.0) + customers
        self.customers_out += customers
        self.outages.add(outage.id)
        self.since = min(self.since or outage.started_at, outage.started_at)
        estimate = outage.estimate
        if estimate is None:
            self.etr_unknown = True
        else:
            self._add_etr(*estimate)
        if outage.hazard:
            self.hazards.add(outage.hazard)
        if outage.cause:
            self.causes.add(outage.cause)

    def _add_etr(self, earliest: datetime, etr: datetime, latest: datetime) -> None:
        self.etr = max(self.etr or etr, etr)
        self.etr_earliest = min(self.etr_earliest or earliest, earliest)
        self.etr_latest = max(self.etr_latest or latest, latest)

    def absorb(self, other: "Cell") -> None:
        self.customers_out += other.customers_out
        self.outages |= other.outages
        self.since = min(d for d in (self.since, other.since) if d is not None)
        if other.etr_earliest and other.etr and other.etr_latest:
            self._add_etr(other.etr_earliest, other.etr, other.etr_latest)
        self.etr_unknown = self.etr_unknown or other.etr_unknown
        self.hazards |= other.hazards
        self.causes |= other.causes
        for name, customers in other.names.items():
            self.names[name] = self.names.get(name, 0.0) + customers


def area_name(address: str) -> str | None:
    """The area an address is in, as people name it: what follows the house and street
    ("62 Nguyễn Trãi, Phường Thượng Đình, Quận Thanh Xuân, Hà Nội" is in "Phường Thượng
    Đình, Quận Thanh Xuân"), never the house; None for an address of fewer parts."""
    parts = [part.strip() for part in address.split(",") if part.strip()]
    if len(parts) < 3:
        return None
    return ", ".join(parts[1:3])


@dataclass
class PlannedCell:
    cell: str
    customers: int = 0
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def add(self, work: PlannedWork, customers: int) -> None:
        self.customers += customers
        self.starts_at = min(self.starts_at or work.starts_at, work.starts_at)
        self.ends_at = max(self.ends_at or work.ends_at, work.ends_at)

    def absorb(self, other: "PlannedCell") -> None:
        self.customers += other.customers
        starts = [d for d in (self.starts_at, other.starts_at) if d is not None]
        ends = [d for d in (self.ends_at, other.ends_at) if d is not None]
        self.starts_at = min(starts) if starts else None
        self.ends_at = max(ends) if ends else None


def _cell_of(lat: float, lon: float, resolution: int) -> str:
    return str(h3.latlng_to_cell(lat, lon, resolution))


def outage_cells(
    outages: Iterable[PublicOutage],
    premises: Iterable[PremiseOut],
    *,
    resolution: int,
    min_customers: int,
    names: Mapping[int, str] | None = None,
) -> list[Cell]:
    """Customers out per H3 cell; a premise under two outages (a nested one) counts once.
    `names`: the area name of each premise (by id), if known."""
    by_id = {outage.id: outage for outage in outages}
    cells: dict[str, Cell] = {}
    seen: set[int] = set()
    for premise in sorted(premises, key=lambda p: (p.premise_id, p.outage_id)):
        outage = by_id.get(premise.outage_id)
        if outage is None:
            continue
        key = _cell_of(premise.lat, premise.lon, resolution)
        cell = cells.setdefault(key, Cell(key))
        counted = 0.0 if premise.premise_id in seen else premise.customers * outage.share_out
        seen.add(premise.premise_id)
        cell.add_outage(outage, counted, (names or {}).get(premise.premise_id))
    merged = _protect(cells, min_customers, lambda c: c.customers_out, Cell)
    return sorted(merged, key=lambda c: c.cell)


def planned_cells(
    works: Iterable[PlannedWork], *, resolution: int, min_customers: int
) -> list[PlannedCell]:
    """Customers a planned outage will cut off, per H3 cell."""
    cells: dict[str, PlannedCell] = {}
    for work in works:
        for lat, lon, customers in work.premises:
            key = _cell_of(lat, lon, resolution)
            cells.setdefault(key, PlannedCell(key)).add(work, customers)
    merged = _protect(cells, min_customers, lambda c: c.customers, PlannedCell)
    return sorted(merged, key=lambda c: c.cell)


_C = TypeVar("_C", Cell, PlannedCell)


def _parent(cell: str) -> str:
    resolution = h3.get_resolution(cell)
    return str(h3.cell_to_parent(cell, resolution - 1)) if resolution else cell


def _protect(
    cells: Mapping[str, _C], min_customers: int, size: Callable[[_C], float], new: type[_C]
) -> list[_C]:
    """Merge the children of every parent with a too-small child into that parent (one
    level up); whatever is still too small is left off."""
    small_parents = {_parent(key) for key, cell in cells.items() if size(cell) < min_customers}
    merged: dict[str, _C] = {}
    for key, cell in cells.items():
        target = _parent(key) if _parent(key) in small_parents else key
        if target not in merged:
            merged[target] = new(target)
        merged[target].absorb(cell)
    return [cell for cell in merged.values() if round(size(cell)) >= min_customers]


def _hexagon(cell: str) -> dict[str, Any]:
    ring = [[round(lon, 6), round(lat, 6)] for lat, lon in h3.cell_to_boundary(cell)]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def cells_at(points: Iterable[tuple[float, float]], resolution: int) -> set[str]:
    """The cells (at the public map's `resolution`) of (lat, lon) points: how a search
    tells where it found something without naming the spot."""
    return {_cell_of(lat, lon, resolution) for lat, lon in points}


def cells_bbox(cells: Iterable[str]) -> tuple[float, float, float, float]:
    """The bbox (west, south, east, north) of the cells' hexagons."""
    corners = [corner for cell in cells for corner in h3.cell_to_boundary(cell)]
    lats, lons = [lat for lat, _ in corners], [lon for _, lon in corners]
    return (round(min(lons), 6), round(min(lats), 6), round(max(lons), 6), round(max(lats), 6))


def areas_at(cells: Iterable[str], features: Mapping[str, Feature]) -> list[Feature]:
    """The public map's outage areas (its features by id) over the cells: each cell's own,
    or its parent's where it was merged; most customers out first."""
    found: dict[str, Feature] = {}
    for cell in cells:
        for key in (f"out-{cell}", f"out-{_parent(cell)}"):
            if key in features:
                found[key] = features[key]
    return sorted(found.values(), key=lambda f: (-f["properties"]["customers_out"], f["id"]))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def public_features(cells: Sequence[Cell], planned: Sequence[PlannedCell]) -> list[Feature]:
    """The public map's one layer: outage cells, then planned-work cells."""
    features: list[Feature] = [
        {
            "type": "Feature",
            "id": f"out-{cell.cell}",
            "geometry": _hexagon(cell.cell),
            "properties": {
                "id": f"out-{cell.cell}",
                "kind": "outage",
                "customers_out": round(cell.customers_out),
                "outages": len(cell.outages),
                "since": _iso(cell.since),
                "etr": _iso(cell.etr),
                "etr_earliest": _iso(cell.etr_earliest),
                "etr_latest": _iso(cell.etr_latest),
                "etr_partial": cell.etr_unknown and cell.etr is not None,
                "hazards": sorted(cell.hazards),
                "causes": sorted(cell.causes),
                "name": cell.name,
            },
        }
        for cell in cells
    ]
    features += [
        {
            "type": "Feature",
            "id": f"planned-{cell.cell}",
            "geometry": _hexagon(cell.cell),
            "properties": {
                "id": f"planned-{cell.cell}",
                "kind": "planned",
                "customers": cell.customers,
                "starts_at": _iso(cell.starts_at),
                "ends_at": _iso(cell.ends_at),
            },
        }
        for cell in planned
    ]
    return features


def collection(features: Iterable[Feature], **members: Any) -> bytes:
    """A FeatureCollection, serialized; `members` are foreign members (`bbox`, `updated_at`)."""
    body = {"type": "FeatureCollection", **members, "features": list(features)}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
