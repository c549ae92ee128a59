"""What the public feeds read: the outages and hazards as the public may know them.

One read gives the summary by area (the feeder a premise is on) and the alerts (hazards,
and outages with many customers out, while active and for a while after they end). No
premise, no person: an alert's place is the outline of the H3 cells its premises fall in,
coarsened as the public map's (a cell with too few customers out becomes its parent), so
no household can be picked out.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import h3
from pydantic import BaseModel
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from maps.layers import PremiseOut, PublicOutage
from outage.grid.models import Device, Feeder, Premise
from outage.incidents.enums import IncidentKind
from outage.incidents.lifecycle import ACTIVE, IncidentStatus
from outage.incidents.models import Incident
from outage.pages import map_sources

ENDED = (IncidentStatus.RESTORED, IncidentStatus.CLOSED, IncidentStatus.CANCELLED)


class Phase(StrEnum):
    """Where an alert's incident stands, as the feeds tell it."""

    ACTIVE = "active"
    RESTORED = "restored"
    CANCELLED = "cancelled"
    """There was no such outage (a false prediction, merged into another)."""


class AreaSummary(BaseModel):
    """One area's outages now: `name` is the feeder's (None: premises on no feeder)."""

    name: str | None
    customers_out: int
    outages: int
    hazards: list[str]
    """The hazards reported in the area (codes, sorted)."""
    etr_earliest: datetime | None
    etr_latest: datetime | None
    """The range the area's restorations likely fall in: the earliest of their ranges'
    earliest times, the latest of their latest (a crew's time is its own range)."""
    etr_unknown: bool
    """Some outage in the area has no ETR yet."""


class Alert(BaseModel):
    """An incident the public is alerted to: a hazard, or a large outage."""

    incident_id: int
    version: int
    hazard: bool
    hazard_kind: str | None
    phase: Phase
    predicted: bool
    """Inferred, not yet confirmed by anyone."""
    started_at: datetime
    created_at: datetime
    updated_at: datetime
    restored_at: datetime | None
    etr: datetime | None
    etr_earliest: datetime | None
    etr_latest: datetime | None
    """The range the restoration likely falls in; none for a crew's own time."""
    customers_out: int
    areas: list[str]
    """The feeders' names, sorted."""
    outline: list[list[tuple[float, float]]]
    """Closed rings of (lat, lon), each around some of the affected area's cells."""


class PublicSnapshot(BaseModel):
    """Everything the feeds answer, read at `updated_at`."""

    updated_at: datetime
    areas: list[AreaSummary]
    alerts: list[Alert]


@dataclass(frozen=True)
class FeedRules:
    """Which incidents are alerts, and how coarse their places are."""

    alert_customers: int
    ended_window: timedelta
    resolution: int
    min_customers: int


@dataclass
class _Area:
    name: str | None
    customers: float = 0.0
    outages: set[int] = field(default_factory=set)
    hazards: set[str] = field(default_factory=set)
    earliest: list[datetime] = field(default_factory=list)
    latest: list[datetime] = field(default_factory=list)
    etr_unknown: bool = False

    def summary(self) -> AreaSummary:
        return AreaSummary(
            name=self.name,
            customers_out=round(self.customers),
            outages=len(self.outages),
            hazards=sorted(self.hazards),
            etr_earliest=min(self.earliest, default=None),
            etr_latest=max(self.latest, default=None),
            etr_unknown=self.etr_unknown,
        )


@dataclass(frozen=True)
class _Row:
    """An incident of the feeds, with its device, its feeder's name and where it is."""

    incident: Incident
    device: str | None
    feeder: str | None
    lat: float | None
    lon: float | None
    """The device (a point on it) or the premise: where a hazard is."""


def _incidents(session: Session, *, now: datetime, window: timedelta) -> list[_Row]:
    """Active incidents, and those ended within `window`."""
    where = func.coalesce(func.ST_PointOnSurface(Device.geom), Premise.geom)
    rows = session.execute(
        select(Incident, Device.asset_ref, Feeder.name, func.ST_Y(where), func.ST_X(where))
        .outerjoin(Device, Device.id == Incident.device_id)
        .outerjoin(Premise, Premise.id == Incident.premise_id)
        .outerjoin(Feeder, Feeder.id == Incident.feeder_id)
        .where(
            or_(
                Incident.status.in_(sorted(ACTIVE)),
                and_(Incident.status.in_(ENDED), Incident.updated_at >= now - window),
            )
        )
        .order_by(Incident.id)
    )
    return [_Row(*row) for row in rows.tuples()]


def _feeders(session: Session, premise_ids: Iterable[int]) -> dict[int, str]:
    rows = session.execute(
        select(Premise.id, Feeder.name)
        .join(Feeder, Feeder.id == Premise.feeder_id)
        .where(Premise.id.in_(sorted(set(premise_ids))))
    )
    return {premise: name for premise, name in rows.tuples()}


def _phase(status: IncidentStatus) -> Phase:
    if status is IncidentStatus.CANCELLED:
        return Phase.CANCELLED
    return Phase.RESTORED if status in ENDED else Phase.ACTIVE


def _outline(
    points: Sequence[tuple[float, float, int]], rules: FeedRules, *, coarsen: bool
) -> list[list[tuple[float, float]]]:
    """The outline of the cells of (lat, lon, customers) points: a cell with fewer than the
    smallest count shown (or every cell, with `coarsen`) is widened to its parent."""
    counts: dict[str, int] = {}
    for lat, lon, customers in points:
        cell = h3.latlng_to_cell(lat, lon, rules.resolution)
        counts[cell] = counts.get(cell, 0) + customers
    parents = {
        h3.cell_to_parent(cell, rules.resolution - 1)
        for cell, customers in counts.items()
        if coarsen or customers < rules.min_customers
    }
    cells = {c for c in counts if h3.cell_to_parent(c, rules.resolution - 1) not in parents}
    cells |= set(h3.uncompact_cells(sorted(parents), rules.resolution))
    if not cells:
        return []
    shape = h3.cells_to_h3shape(sorted(cells))
    polys = shape.polys if isinstance(shape, h3.LatLngMultiPoly) else [shape]
    return [
        [(round(lat, 5), round(lon, 5)) for lat, lon in (*poly.outer, poly.outer[0])]
        for poly in polys
    ]


def _summaries(
    outages: Sequence[PublicOutage],
    premises: Sequence[PremiseOut],
    feeders: dict[int, str],
    hazards: Iterable[_Row],
) -> list[AreaSummary]:
    """Customers out per feeder (a premise under two outages counts once), the outages
    and their ETRs, and the hazards by the feeder of their incident."""
    by_id = {outage.id: outage for outage in outages}
    areas: dict[str | None, _Area] = {}
    seen: set[int] = set()
    for premise in sorted(premises, key=lambda p: (p.premise_id, p.outage_id)):
        outage = by_id[premise.outage_id]
        name = feeders.get(premise.premise_id)
        area = areas.setdefault(name, _Area(name))
        if premise.premise_id not in seen:
            area.customers += premise.customers * outage.share_out
        seen.add(premise.premise_id)
        if outage.id not in area.outages:
            area.outages.add(outage.id)
            estimate = outage.estimate
            if estimate is None:
                area.etr_unknown = True
            else:
                area.earliest.append(estimate[0])
                area.latest.append(estimate[2])
    for row in hazards:
        if row.incident.hazard is not None:
            areas.setdefault(row.feeder, _Area(row.feeder)).hazards.add(row.incident.hazard.value)
    ordered = sorted(areas.values(), key=lambda a: (a.name is None, a.name or ""))
    return [area.summary() for area in ordered if area.outages or area.hazards]


def _customers_out(row: _Row, phase: Phase, premises: Sequence[PremiseOut], share: float) -> int:
    """Customers without supply now: an active outage's, by its premises on the live
    network; none once it has ended."""
    incident = row.incident
    if phase is not Phase.ACTIVE:
        return 0
    if incident.kind is IncidentKind.HAZARD:
        return incident.customers_affected - incident.customers_restored
    return round(sum(p.customers for p in premises) * share)


def _is_alert(row: _Row, customers_out: int, rules: FeedRules) -> bool:
    """Every hazard; an outage that cut off many customers, until it ends (and for a while
    after, so its end is told) even once some have power again."""
    if row.incident.kind is IncidentKind.HAZARD:
        return True
    return max(row.incident.customers_affected, customers_out) >= rules.alert_customers


def _alert(
    row: _Row,
    premises: Sequence[PremiseOut],
    feeders: dict[int, str],
    public: PublicOutage | None,
    rules: FeedRules,
) -> Alert | None:
    """`public`: the outage as the public map tells it (its share out, the time a storm's
    phase allows), None for a hazard or an outage that has ended."""
    incident = row.incident
    share = public.share_out if public is not None else 1.0
    phase = _phase(incident.status)
    out = _customers_out(row, phase, premises, share)
    if not _is_alert(row, out, rules):
        return None
    hazard = incident.kind is IncidentKind.HAZARD
    if hazard:
        points = [(row.lat, row.lon, 1)] if row.lat is not None and row.lon is not None else []
    else:
        points = [(p.lat, p.lon, p.customers) for p in premises]
    areas = {feeders[p.premise_id] for p in premises if p.premise_id in feeders}
    if hazard or not areas:
        areas = {row.feeder} if row.feeder else areas
    return Alert(
        incident_id=incident.id,
        version=incident.version,
        hazard=hazard,
        hazard_kind=incident.hazard.value if incident.hazard else None,
        phase=phase,
        predicted=incident.status is IncidentStatus.PREDICTED,
        started_at=incident.started_at,
        created_at=incident.created_at,
        updated_at=incident.updated_at,
        restored_at=incident.restored_at,
        etr=public.etr if public is not None else incident.etr,
        etr_earliest=public.etr_earliest if public is not None else incident.etr_earliest,
        etr_latest=public.etr_latest if public is not None else incident.etr_latest,
        customers_out=max(out, 0),
        areas=sorted(areas),
        outline=_outline(points, rules, coarsen=hazard),
    )


def snapshot(
    session: Session, topology: Topology, live: Topology, rules: FeedRules, *, now: datetime
) -> PublicSnapshot:
    """The feeds' picture now (`topology` as operated, `live` as energized)."""
    rows = _incidents(session, now=now, window=rules.ended_window)
    outages, premises = map_sources.public_outages(session, topology, live)
    ended = [
        (row.incident.id, row.device, row.incident.premise_id)
        for row in rows
        if row.incident.status in ENDED and row.incident.kind is IncidentKind.OUTAGE
    ]
    every = [*premises, *map_sources.premises_cut_off(session, topology, ended)]
    feeders = _feeders(session, [p.premise_id for p in every])
    by_incident: dict[int, list[PremiseOut]] = {}
    for premise in every:
        by_incident.setdefault(premise.outage_id, []).append(premise)
    public = {outage.id: outage for outage in outages}
    alerts = [
        alert
        for row in rows
        if (
            alert := _alert(
                row,
                by_incident.get(row.incident.id, []),
                feeders,
                public.get(row.incident.id),
                rules,
            )
        )
        is not None
    ]
    hazards = [
        row
        for row in rows
        if row.incident.kind is IncidentKind.HAZARD and row.incident.status in ACTIVE
    ]
    return PublicSnapshot(
        updated_at=now, areas=_summaries(outages, premises, feeders, hazards), alerts=alerts
    )
