"""What the maps read from the database: plain rows and GeoJSON features, one query each.

Who is out because of an incident comes from the live topology (the premises downstream of
its device on the network as operated), as the incidents service counts them, less those
the live network feeds again when the device is open now (re-fed through a tie); the
geometry from PostGIS.
"""

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, bindparam, func, literal, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from grid_topology.model import DeviceKind
from grid_topology.topology import Topology, devices_of_kinds
from maps.layers import Feature, PlannedWork, PremiseOut, PublicOutage, area_name
from outage.crews import service as crews_service
from outage.db import array_literal
from outage.grid.models import Device, Feeder, GridNode, Premise, ServiceArea, Substation
from outage.grid.switching import abnormal_devices
from outage.incidents.enums import IncidentKind
from outage.incidents.lifecycle import ACTIVE
from outage.incidents.models import Incident
from outage.intake.enums import ReportStatus
from outage.intake.models import Report
from outage.intake.progress import told_cause
from outage.notifications import planned
from outage.storms import service as storms
from outage.storms.enums import EtrScope

Bounds = tuple[float, float, float, float]
"""west, south, east, north (a GeoJSON bbox)."""

AREA_BUFFER_M = 40.0
"""Around each affected premise (the device, for an incident cutting none off): wide
enough to join a street's premises into one area, narrow enough to leave out the streets
between them that have supply."""

AREA_SIMPLIFY_DEG = 0.00005
"""An area's outline is simplified this much (about 5 m): lighter to send, same to see."""

REPORT_LIMIT = 5000
"""The newest reports shown; a storm's older ones are in the clusters' counts already."""


@dataclass(frozen=True)
class _Placed:
    """An active incident and where it is on the network."""

    id: int
    kind: IncidentKind
    status: str
    device: str | None
    premise_id: int | None
    started_at: datetime
    etr: datetime | None
    etr_earliest: datetime | None
    etr_latest: datetime | None
    etr_scope: EtrScope
    hazard: str | None
    cause: str | None
    customers_affected: int
    customers_restored: int
    region: int | None
    """The substation whose area it is in: a storm's phase there decides its time."""


def _active(session: Session) -> list[_Placed]:
    rows = session.execute(
        select(Incident, Device.asset_ref, Feeder.substation_id)
        .outerjoin(Device, Device.id == Incident.device_id)
        .outerjoin(Feeder, Feeder.id == Incident.feeder_id)
        .where(Incident.status.in_(sorted(ACTIVE)))
        .order_by(Incident.id)
    )
    return [
        _Placed(
            id=incident.id,
            kind=incident.kind,
            status=incident.status.value,
            device=asset_ref,
            premise_id=incident.premise_id,
            started_at=incident.started_at,
            etr=incident.etr,
            etr_earliest=incident.etr_earliest,
            etr_latest=incident.etr_latest,
            etr_scope=incident.etr_scope,
            hazard=incident.hazard.value if incident.hazard else None,
            cause=incident.cause,
            customers_affected=incident.customers_affected,
            customers_restored=incident.customers_restored,
            region=region,
        )
        for incident, asset_ref, region in rows
    ]


_PREMISES_BY_NODE = text(
    "SELECT t.incident_id, p.id, ST_Y(p.geom), ST_X(p.geom),"
    " (SELECT count(*) FROM customers c WHERE c.premise_id = p.id)"
    " FROM unnest(CAST(:incidents AS integer[]), CAST(:nodes AS text[]))"
    " AS t(incident_id, node_ref)"
    " JOIN nodes n ON n.ref = t.node_ref"
    " JOIN premises p ON p.node_id = n.id"
    " UNION ALL"
    " SELECT i.id, p.id, ST_Y(p.geom), ST_X(p.geom),"
    " (SELECT count(*) FROM customers c WHERE c.premise_id = p.id)"
    " FROM incidents i JOIN premises p ON p.id = i.premise_id"
    " WHERE i.id = ANY(:single)"
).bindparams(
    bindparam("incidents", type_=String),
    bindparam("nodes", type_=String),
    bindparam("single", type_=ARRAY(Integer)),
)


def premises_cut_off(
    session: Session,
    topology: Topology,
    places: Sequence[tuple[int, str | None, int | None]],
    live: Topology | None = None,
) -> list[PremiseOut]:
    """The premises each (id, device asset_ref, premise id) cuts off: those downstream of
    the device, or the one premise.

    With `live` (the energized network), a device open now cuts off only what has no
    supply: what is fed again through a tie is not out. A device the live network has
    closed (an outage inferred from reports, a fuse no one telemeters) says nothing of
    what is energized below it, so its premises all count.
    """
    pairs: list[tuple[int, str]] = []
    single: list[int] = []
    served = topology.network.accounts_at  # the nodes premises hang on
    for key, device, premise_id in places:
        if device is not None and device in topology.network.links:
            nodes = [n for n in topology.downstream(device).nodes if n in served]
            if live is not None and live.network.links[device].is_open:
                nodes = [node for node in nodes if not live.is_energized(node)]
            pairs.extend((key, node) for node in nodes)
        elif premise_id is not None:
            single.append(key)
    if not pairs and not single:
        return []
    rows = session.execute(
        _PREMISES_BY_NODE,
        {
            "incidents": array_literal(str(key) for key, _ in pairs),
            "nodes": array_literal(node for _, node in pairs),
            "single": single,
        },
    )
    return [
        PremiseOut(outage_id=key, premise_id=premise, lat=lat, lon=lon, customers=customers)
        for key, premise, lat, lon, customers in rows
    ]


def _premises_out(
    session: Session, topology: Topology, live: Topology, incidents: Sequence[_Placed]
) -> list[PremiseOut]:
    places = [(i.id, i.device, i.premise_id) for i in incidents]
    return premises_cut_off(session, topology, places, live)


def public_outages(
    session: Session, topology: Topology, live: Topology
) -> tuple[list[PublicOutage], list[PremiseOut]]:
    """The active outages as the public may know them, and the premises they cut off now
    (`topology` as operated, `live` as energized). In a storm, an outage's time is what
    its region's phase allows: none while the damage is assessed."""
    outages = [i for i in _active(session) if i.kind is IncidentKind.OUTAGE]
    storm = storms.current(session)
    told = {
        i.id: storms.told_time(
            storm, i.region, storms.ToldTime(i.etr, i.etr_earliest, i.etr_latest, i.etr_scope)
        )
        for i in outages
    }
    public = [
        PublicOutage(
            id=i.id,
            started_at=i.started_at,
            etr=told[i.id].etr,
            etr_earliest=told[i.id].earliest,
            etr_latest=told[i.id].latest,
            hazard=i.hazard,
            cause=told_cause(i.cause),
            share_out=(
                (i.customers_affected - i.customers_restored) / i.customers_affected
                if i.customers_affected
                else 1.0
            ),
        )
        for i in outages
    ]
    return public, _premises_out(session, topology, live, outages)


def area_names(session: Session, premise_ids: Collection[int]) -> dict[int, str]:
    """The area (ward, district) each premise is in, from its address: the names the public
    map's areas go by."""
    rows = session.execute(
        select(Premise.id, Premise.address).where(Premise.id.in_(set(premise_ids)))
    )
    named = ((premise_id, area_name(address)) for premise_id, address in rows)
    return {premise_id: name for premise_id, name in named if name}


_AREAS = text(
    "WITH points AS ("
    "  SELECT t.incident_id, p.geom"
    "  FROM unnest(:incidents, :premises) AS t(incident_id, premise_id)"
    "  JOIN premises p ON p.id = t.premise_id"
    "  UNION ALL"
    "  SELECT i.id, d.geom FROM incidents i JOIN devices d ON d.id = i.device_id"
    "  WHERE i.id = ANY(:all) AND i.id <> ALL(:incidents)"
    ")"
    " SELECT incident_id, ST_AsGeoJSON(ST_SimplifyPreserveTopology("
    "   ST_Buffer(ST_Collect(geom)::geography, :buffer, 'quad_segs=4')::geometry, :simplify"
    " ), 6)"
    " FROM points GROUP BY incident_id ORDER BY incident_id"
).bindparams(
    bindparam("incidents", type_=ARRAY(Integer)),
    bindparam("premises", type_=ARRAY(Integer)),
    bindparam("all", type_=ARRAY(Integer)),
)


def affected_areas(session: Session, topology: Topology, live: Topology) -> list[Feature]:
    """One area per active incident: the premises it cuts off now, each with a margin
    around it, or its device when it cuts none off (`topology` as operated, `live` as
    energized). It follows the premises rather than spanning them, so it leaves out what
    lies between that has supply: a polygon, or several where the premises are apart."""
    incidents = _active(session)
    premises = _premises_out(session, topology, live, incidents)
    by_id = {incident.id: incident for incident in incidents}
    rows = session.execute(
        _AREAS,
        {
            "incidents": [p.outage_id for p in premises],
            "premises": [p.premise_id for p in premises],
            "all": list(by_id),
            "buffer": AREA_BUFFER_M,
            "simplify": AREA_SIMPLIFY_DEG,
        },
    )
    return [
        {
            "type": "Feature",
            "id": incident_id,
            "geometry": json.loads(geometry),
            "properties": {
                "id": incident_id,
                "status": by_id[incident_id].status,
                "kind": by_id[incident_id].kind.value,
                "customers_affected": by_id[incident_id].customers_affected,
            },
        }
        for incident_id, geometry in rows
        if geometry
    ]


def open_reports(session: Session, *, since: datetime) -> list[Feature]:
    """Reports placed on the map (by GPS or their premise) and not closed, newest first."""
    where = func.coalesce(Report.geom, Premise.geom)
    rows = session.execute(
        select(
            Report.id,
            Report.ticket,
            Report.status,
            Report.channel,
            Report.received_at,
            Report.hazard,
            Report.description,
            Report.incident_id,
            func.ST_X(where),
            func.ST_Y(where),
        )
        .outerjoin(Premise, Premise.id == Report.premise_id)
        .where(Report.received_at >= since, Report.status != ReportStatus.CLOSED)
        .where(where.is_not(None))
        .order_by(Report.received_at.desc(), Report.id.desc())
        .limit(REPORT_LIMIT)
    )
    return [
        {
            "type": "Feature",
            "id": row.id,
            "geometry": {"type": "Point", "coordinates": [round(row[8], 6), round(row[9], 6)]},
            "properties": {
                "id": row.id,
                "ticket": row.ticket,
                "status": row.status.value,
                "channel": row.channel.value,
                "received_at": row.received_at.isoformat(),
                "hazard": row.hazard.value if row.hazard else None,
                "description": row.description,
                "incident_id": row.incident_id,
            },
        }
        for row in rows
    ]


DEAD = "deenergized"
"""The network layer's group of line sections with no supply now."""

_LINES_BY_SOURCE = text(
    "SELECT t.source, ST_AsGeoJSON(ST_Collect(d.geom), 6)"
    " FROM unnest(:refs, :sources) AS t(asset_ref, source)"
    " JOIN devices d ON d.asset_ref = t.asset_ref"
    " WHERE ST_GeometryType(d.geom) = 'ST_LineString'"
    " GROUP BY t.source ORDER BY t.source"
).bindparams(bindparam("refs", type_=ARRAY(String)), bindparam("sources", type_=ARRAY(String)))


def feeders(session: Session) -> list[tuple[str, str, str]]:
    """Each feeder's head device, name and substation, by name: a feeder's place in this
    list is its colour on the map (`index`)."""
    rows = session.execute(
        select(Device.asset_ref, Feeder.name, Substation.name)
        .join(Feeder, Feeder.head_device_id == Device.id)
        .join(Substation, Substation.id == Feeder.substation_id)
        .order_by(Feeder.name)
    )
    return [(head, name, substation) for head, name, substation in rows]


def line_geometries(session: Session, members: Collection[tuple[str, str]]) -> dict[str, Any]:
    """The lines of each group ((line asset_ref, group) pairs: a line may be in several) as
    one GeoJSON geometry per group."""
    refs, groups = [ref for ref, _ in members], [group for _, group in members]
    rows = session.execute(_LINES_BY_SOURCE, {"refs": refs, "sources": groups})
    return {group: json.loads(geometry) for group, geometry in rows}


def _lines(session: Session, live: Topology) -> list[Feature]:
    """Line sections grouped by the feeder head feeding them now, and those without supply.

    A section fed through a tie is in the group of the feeder that feeds it, not of its
    own feeder; one fed but below no feeder head (a substation's bus) is left out.
    """
    heads = feeders(session)
    owner = live.nearest_upstream([head for head, _, _ in heads]).devices
    groups: dict[str, str] = {}
    for ref in devices_of_kinds(live.network.links, {DeviceKind.LINE}):
        source = owner.get(ref) if live.is_device_energized(ref) else DEAD
        if source is not None:
            groups[ref] = source
    geometries = line_geometries(session, groups.items())
    features: list[Feature] = [
        {
            "type": "Feature",
            "id": f"feeder-{head}",
            "geometry": geometries[head],
            "properties": {
                "id": f"feeder-{head}",
                "kind": "feeder",
                "name": name,
                "substation": substation,
                "head": head,
                "index": index,
            },
        }
        for index, (head, name, substation) in enumerate(heads)
        if head in geometries
    ]
    if DEAD in geometries:
        features.append(
            {
                "type": "Feature",
                "id": DEAD,
                "geometry": geometries[DEAD],
                "properties": {"id": DEAD, "kind": DEAD},
            }
        )
    return features


def device_points(session: Session, asset_refs: Collection[str]) -> dict[str, Any]:
    """Where each device is drawn as a point (a line's on its length), as GeoJSON."""
    rows = session.execute(
        select(Device.asset_ref, func.ST_AsGeoJSON(func.ST_PointOnSurface(Device.geom), 6)).where(
            Device.asset_ref.in_(asset_refs)
        )
    )
    return {ref: json.loads(geometry) for ref, geometry in rows}


def _abnormal(session: Session) -> list[Feature]:
    """Switchable devices not in their normal state: an open normally-closed device, a
    closed normally-open tie, a tripped protective device."""
    found = abnormal_devices(session)
    where = device_points(session, [d.asset_ref for d in found])
    return [
        {
            "type": "Feature",
            "id": f"device-{device.asset_ref}",
            "geometry": where[device.asset_ref],
            "properties": {
                "id": f"device-{device.asset_ref}",
                "kind": "abnormal",
                "name": device.asset_ref,
                "device_kind": device.kind.value,
                "is_open": device.is_open,
                "tripped": device.tripped,
                "since": device.since.isoformat() if device.since else None,
                "source": device.source.value if device.source else None,
                "actor": device.actor,
                "reason": device.reason,
            },
        }
        for device in found
        if where.get(device.asset_ref)
    ]


def network(session: Session, live: Topology) -> list[Feature]:
    """The network as it stands (`live` is the energized topology): line sections by the
    feeder feeding them, those without supply, devices out of their normal state, and the
    substations."""
    features = _lines(session, live) + _abnormal(session)
    stations = session.execute(
        select(Substation.id, Substation.name, func.ST_AsGeoJSON(Substation.geom, 6)).order_by(
            Substation.id
        )
    )
    features += [
        {
            "type": "Feature",
            "id": f"substation-{station_id}",
            "geometry": json.loads(geometry),
            "properties": {"id": f"substation-{station_id}", "kind": "substation", "name": name},
        }
        for station_id, name, geometry in stations
    ]
    return features


def network_bounds(session: Session) -> Bounds | None:
    """The extent of the network, where the maps open."""
    box = session.execute(
        select(
            func.ST_XMin(func.ST_Extent(GridNode.geom)),
            func.ST_YMin(func.ST_Extent(GridNode.geom)),
            func.ST_XMax(func.ST_Extent(GridNode.geom)),
            func.ST_YMax(func.ST_Extent(GridNode.geom)),
        )
    ).one()
    if box[0] is None:
        return None
    west, south, east, north = (round(float(v), 6) for v in box)
    return (west, south, east, north)


OUTLINE_GRID_DEG = 0.0001
"""The public outline's lines are snapped to a grid this fine (about 10 m) and simplified
as much: enough to read the streets they follow, too coarse to point at a building."""

_OUTLINE = text(
    "SELECT 'territory', ST_AsGeoJSON(ST_Union(geom), 5) FROM service_areas"
    " UNION ALL"
    " SELECT 'lines', ST_AsGeoJSON(ST_Simplify(ST_SnapToGrid(ST_Collect(geom), :grid), :grid), 5)"
    " FROM devices WHERE retired_in IS NULL AND ST_GeometryType(geom) = 'ST_LineString'"
)


def outline(session: Session) -> list[Feature]:
    """What the public map draws under the outages so it reads without tiles: the service
    territory's outline and the network's lines as one shape, without a device's name."""
    rows = session.execute(_OUTLINE, {"grid": OUTLINE_GRID_DEG})
    return [
        {
            "type": "Feature",
            "id": kind,
            "geometry": json.loads(geometry),
            "properties": {"kind": kind},
        }
        for kind, geometry in rows
        if geometry
    ]


Place = tuple[float, float, str]
"""A premise's (lat, lon, address), for a search to tell its area: never answered as is."""

NAMED_PLACES_LIMIT = 2000
"""The premises a search by an area's or a street's name reads at most."""

NAME_MIN_SCORE = 0.6
"""pg_trgm word similarity below which a name is no match (the geocoder's)."""

NAME_MARGIN = 0.05
"""Premises whose address matches this close to the best match are in the place named."""


def premise_places(session: Session, premise_ids: Collection[int]) -> list[Place]:
    rows = session.execute(
        select(func.ST_Y(Premise.geom), func.ST_X(Premise.geom), Premise.address).where(
            Premise.id.in_(set(premise_ids))
        )
    )
    return [(lat, lon, address) for lat, lon, address in rows]


def named_places(session: Session, folded: str) -> list[Place]:
    """The premises in the place a name (folded as the geocoder folds addresses) names
    best: a ward, a district, a street; none when nothing is named so."""
    score = func.word_similarity(folded, Premise.address_search).label("score")
    session.execute(
        select(func.set_config("pg_trgm.word_similarity_threshold", str(NAME_MIN_SCORE), True))
    )
    rows = session.execute(
        select(func.ST_Y(Premise.geom), func.ST_X(Premise.geom), Premise.address, score)
        .where(literal(folded).op("<%")(Premise.address_search), Premise.retired_in.is_(None))
        .order_by(score.desc(), Premise.id)
        .limit(NAMED_PLACES_LIMIT)
    ).all()
    if not rows:
        return []
    best = rows[0].score
    return [(lat, lon, address) for lat, lon, address, s in rows if s >= best - NAME_MARGIN]


def report_place(session: Session, ticket: str) -> Place | None:
    """Where a report is: its GPS fix, else its premise's (the address is the premise's)."""
    row = session.execute(
        select(
            func.ST_Y(func.coalesce(Report.geom, Premise.geom)),
            func.ST_X(func.coalesce(Report.geom, Premise.geom)),
            func.coalesce(Premise.address, ""),
        )
        .outerjoin(Premise, Premise.id == Report.premise_id)
        .where(Report.ticket == ticket)
    ).one_or_none()
    if row is None or row[0] is None:
        return None
    return (row[0], row[1], row[2])


def inside_territory(session: Session, lat: float, lon: float) -> bool:
    """Whether we serve the point (true where no territory is drawn yet)."""
    point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    areas, inside = session.execute(
        select(
            func.count(), func.count().filter(func.ST_Intersects(ServiceArea.geom, point))
        ).select_from(ServiceArea)
    ).one()
    return not areas or bool(inside)


HEADING_WINDOW = timedelta(minutes=10)
"""A crew's heading is read from its two newest positions only if both are this recent."""

HEADING_MIN_M = 15.0
"""Two positions closer than this are a crew standing still (a phone's fix wanders)."""

_HEADINGS = text(
    "WITH newest AS ("
    "  SELECT c.id AS crew_id, p.geom::geography AS place,"
    "  row_number() OVER (PARTITION BY c.id ORDER BY p.recorded_at DESC, p.id DESC) AS n"
    "  FROM crews c CROSS JOIN LATERAL ("
    "    SELECT id, geom, recorded_at FROM crew_positions cp"
    "    WHERE cp.crew_id = c.id AND cp.recorded_at >= :since"
    "    ORDER BY cp.recorded_at DESC, cp.id DESC LIMIT 2"
    "  ) p"
    ")"
    " SELECT latest.crew_id, degrees(ST_Azimuth(previous.place, latest.place))"
    " FROM newest latest JOIN newest previous"
    " ON previous.crew_id = latest.crew_id AND previous.n = 2"
    " WHERE latest.n = 1 AND ST_Distance(previous.place, latest.place) > :min_m"
)


def crew_headings(session: Session, *, now: datetime) -> dict[int, float]:
    """Which way each moving crew goes (degrees clockwise from north), from its two newest
    positions: only crews whose both are recent and far enough apart to tell."""
    rows = session.execute(_HEADINGS, {"since": now - HEADING_WINDOW, "min_m": HEADING_MIN_M})
    return {crew_id: round(heading, 1) for crew_id, heading in rows}


def crews(session: Session, *, now: datetime) -> list[Feature]:
    """Each crew where it last reported itself, else at its depot (`at_depot`), with its
    heading while it moves (`heading`, else null)."""
    headings = crew_headings(session, now=now)
    features: list[Feature] = []
    for crew in crews_service.list_crews(session, now=now):
        where = crew.position or crew.depot
        features.append(
            {
                "type": "Feature",
                "id": crew.id,
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(where.lon, 6), round(where.lat, 6)],
                },
                "properties": {
                    "id": crew.id,
                    "name": crew.name,
                    "status": crew.status.value,
                    "on_shift": crew.on_shift,
                    "at_depot": crew.position is None,
                    "position_at": (
                        crew.position.recorded_at.isoformat() if crew.position else None
                    ),
                    "skills": [skill.value for skill in crew.skills],
                    "heading": headings.get(crew.id),
                },
            }
        )
    return features


def planned_works(session: Session, topology: Topology, *, now: datetime) -> list[PlannedWork]:
    """Planned outages under way or ahead, with the premises each will cut off."""
    views = planned.active_or_upcoming(session, now)
    premises = premises_cut_off(session, topology, [(v.id, v.device, None) for v in views])
    by_work: dict[int, list[tuple[float, float, int]]] = {}
    for premise in premises:
        by_work.setdefault(premise.outage_id, []).append(
            (premise.lat, premise.lon, premise.customers)
        )
    return [
        PlannedWork(view.id, view.starts_at, view.ends_at, by_work.get(view.id, []))
        for view in views
    ]
