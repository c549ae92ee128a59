"""Reading incidents, changing nothing: the HTTP API's list, detail and map layer
(`list_incidents`, `get_incident`, `incidents_geojson`, `crew_of`), the active incidents
the prediction engine matches its predictions against (`active_incidents`), and the shaping
of an incident row into its schema.
"""

import json
from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, case, func, select
from sqlalchemy.orm import Session, aliased

from grid_topology.model import DeviceKind
from grid_topology.topology import Topology
from outage.grid.history import NetworkHistory
from outage.grid.models import Customer, Device, Feeder, Premise
from outage.grid.regions import Scope
from outage.grid.service import Retiring
from outage.incidents.available import ActionFacts, available_actions, mergeable
from outage.incidents.enums import IncidentKind
from outage.incidents.errors import IncidentNotFound
from outage.incidents.lifecycle import ACTIVE, IncidentStatus
from outage.incidents.models import Incident, IncidentEvent, IncidentEvidence
from outage.incidents.photos import photo_counts
from outage.incidents.pings import IncidentPings, incident_pings
from outage.incidents.restoration import resupplied
from outage.incidents.schemas import (
    DeviceRef,
    EvidenceCountsOut,
    IncidentDetailOut,
    IncidentEventOut,
    IncidentFeature,
    IncidentFeatureCollection,
    IncidentOut,
    IncidentPingsOut,
    IncidentProperties,
    IncidentReportOut,
    PingCountsOut,
    TransformerPingsOut,
)
from outage.intake.enums import Hazard
from outage.intake.models import Report


@dataclass(frozen=True)
class ActiveIncident:
    """What the engine needs to match its predictions against the incidents already open."""

    id: int
    kind: IncidentKind
    status: IncidentStatus
    device: str | None
    """asset_ref of the faulted device."""
    premise: str | None
    """Premise ref of a single-service outage."""
    accounts: tuple[str, ...]
    """Customers at that premise (single-service outages only), as the engine names them."""
    feeder: str | None
    hazard: Hazard | None
    confidence: float
    customers_affected: int
    started_at: datetime
    parent_id: int | None
    crew_id: int | None
    version: int
    placed_by: str | None
    """The dispatcher who placed it by hand; None while the place is the engine's."""


def _report_count() -> Any:
    return (
        select(func.count(Report.id))
        .where(Report.incident_id == Incident.id)
        .correlate(Incident)
        .scalar_subquery()
        .label("report_count")
    )


def _incident_query(*extra: Any) -> Select[Any]:
    return (
        select(Incident, Device.asset_ref, Device.kind, Premise.ref, Feeder.name, _report_count())
        .add_columns(*extra)
        .outerjoin(Device, Device.id == Incident.device_id)
        .outerjoin(Premise, Premise.id == Incident.premise_id)
        .outerjoin(Feeder, Feeder.id == Incident.feeder_id)
    )


def _incident_out(row: Row[Any]) -> IncidentOut:
    incident, asset_ref, device_kind, premise, feeder, report_count = row[:6]
    return IncidentOut(
        id=incident.id,
        kind=incident.kind,
        status=incident.status,
        device=DeviceRef(asset_ref=asset_ref, kind=DeviceKind(device_kind)) if asset_ref else None,
        premise=premise,
        feeder=feeder,
        hazard=incident.hazard,
        confidence=incident.confidence,
        customers_affected=incident.customers_affected,
        customers_restored=incident.customers_restored,
        report_count=report_count,
        started_at=incident.started_at,
        restored_at=incident.restored_at,
        momentary=incident.momentary,
        etr=incident.etr,
        etr_source=incident.etr_source,
        etr_earliest=incident.etr_earliest,
        etr_latest=incident.etr_latest,
        etr_scope=incident.etr_scope,
        crew_id=incident.crew_id,
        cause=incident.cause,
        parent_id=incident.parent_id,
        merged_into_id=incident.merged_into_id,
        version=incident.version,
        updated_at=incident.updated_at,
    )


def _newest_first(query: Select[Any]) -> Select[Any]:
    return query.order_by(Incident.started_at.desc(), Incident.id.desc())


def list_incidents(
    session: Session,
    *,
    statuses: Collection[IncidentStatus] | None = None,
    feeder: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[IncidentOut]:
    """Incidents newest first, optionally only those in `statuses` or on one feeder (by name)."""
    query = _newest_first(_incident_query()).limit(limit).offset(offset)
    if statuses is not None:
        query = query.where(Incident.status.in_(sorted(statuses)))
    if feeder is not None:
        query = query.where(Feeder.name == feeder)
    return [_incident_out(row) for row in session.execute(query)]


REPORTS_LISTED = 200
"""Reports an incident's detail lists (a split picks from them)."""


def get_incident(session: Session, incident_id: int) -> IncidentDetailOut:
    """One incident with its evidence counts, nested incidents and audit trail."""
    row = session.execute(_incident_query().where(Incident.id == incident_id)).first()
    if row is None:
        raise IncidentNotFound(f"no incident {incident_id}")
    counts = session.execute(
        select(
            func.count(IncidentEvidence.report_id),
            func.count(IncidentEvidence.meter_event_id),
            func.count(IncidentEvidence.scada_event_id),
        ).where(IncidentEvidence.incident_id == incident_id)
    ).one()
    nested = session.scalars(
        select(Incident.id).where(Incident.parent_id == incident_id).order_by(Incident.id)
    )
    events = session.scalars(
        select(IncidentEvent)
        .where(IncidentEvent.incident_id == incident_id)
        .order_by(IncidentEvent.id)
    )
    reports = session.execute(
        select(Report.id, Report.ticket, Report.received_at, Premise.address)
        .join(IncidentEvidence, IncidentEvidence.report_id == Report.id)
        .outerjoin(Premise, Premise.id == Report.premise_id)
        .where(IncidentEvidence.incident_id == incident_id)
        .order_by(Report.received_at.desc(), Report.id.desc())
        .limit(REPORTS_LISTED)
    )
    pinged = incident_pings(session, [incident_id]).get(incident_id)
    return IncidentDetailOut(
        **_incident_out(row).model_dump(),
        evidence=EvidenceCountsOut(
            reports=counts[0], meter_events=counts[1], scada_events=counts[2]
        ),
        reports=[
            IncidentReportOut(id=id_, ticket=ticket, received_at=received, address=address)
            for id_, ticket, received, address in reports
        ],
        nested=list(nested),
        pings=_pings_out(pinged) if pinged is not None else None,
        events=[
            IncidentEventOut(
                at=e.at,
                actor=e.actor,
                action=e.action,
                from_status=e.from_status,
                to_status=e.to_status,
                reason=e.reason,
                details=e.details,
            )
            for e in events
        ],
    )


def _pings_out(pings: IncidentPings) -> IncidentPingsOut:
    return IncidentPingsOut(
        **asdict(pings.counts),
        last_answer_at=pings.last_answer_at,
        reasons=list(pings.reasons),
        transformers=[
            TransformerPingsOut(
                **asdict(t.counts),
                transformer=t.transformer,
                last_answer_at=t.last_answer_at,
                reasons=list(t.reasons),
            )
            for t in pings.transformers
        ],
    )


def crew_of(session: Session, incident_id: int) -> int | None:
    """The crew an incident is assigned to (None when none is, or no such incident)."""
    return session.scalar(select(Incident.crew_id).where(Incident.id == incident_id))


TICKETS_SHOWN = 20
"""Tickets of an incident's reports the dispatcher's list carries, for its search."""


def incidents_geojson(
    session: Session,
    *,
    feeder: str | None = None,
    history: NetworkHistory | None = None,
    energized: Topology | None = None,
) -> IncidentFeatureCollection:
    """Every active incident as a GeoJSON feature on its device's or premise's geometry,
    with the actions it takes now. Given the network's `history` and what is `energized`,
    an incident some of whose customers switching has resupplied offers
    `restored_by_switching`."""
    geometry = func.ST_AsGeoJSON(func.coalesce(Device.geom, Premise.geom), 6)
    tickets = func.array(
        select(Report.ticket)
        .where(Report.incident_id == Incident.id)
        .order_by(Report.received_at.desc(), Report.id.desc())
        .limit(TICKETS_SHOWN)
        .correlate(Incident)
        .scalar_subquery()
    )
    nested = aliased(Incident)
    nested_active = (
        select(nested.id)
        .where(nested.parent_id == Incident.id, nested.status.in_(sorted(ACTIVE)))
        .correlate(Incident)
        .exists()
    )
    query = _newest_first(_incident_query(geometry, Premise.address, tickets, nested_active)).where(
        Incident.status.in_(sorted(ACTIVE))
    )
    if feeder is not None:
        query = query.where(Feeder.name == feeder)
    rows = session.execute(query).all()
    ids = [row[0].id for row in rows]
    counts = photo_counts(session, ids)
    pinged = incident_pings(session, ids)
    features = []
    for row in rows:
        out = _incident_out(row)
        geojson, address, shown_tickets, has_nested = row[6:10]
        back = (
            history is not None
            and energized is not None
            and out.device is not None
            and bool(
                resupplied(
                    session,
                    out.id,
                    out.device.asset_ref,
                    out.started_at,
                    history=history,
                    energized=energized,
                ).back
            )
        )
        facts = ActionFacts(
            status=out.status,
            kind=out.kind,
            has_crew=out.crew_id is not None,
            has_device=out.device is not None,
            has_cause=out.cause is not None,
            reports=out.report_count,
            customers_out=out.customers_affected - out.customers_restored,
            resupplied=back,
            nested_active=has_nested,
        )
        properties = IncidentProperties(
            **out.model_dump(include=set(IncidentProperties.model_fields)),
            photo_count=counts.get(out.id, 0),
            address=address if out.device is None else None,
            tickets=list(shown_tickets or ()),
            actions=list(available_actions(facts)),
            mergeable=mergeable(facts),
            pings=PingCountsOut(**asdict(pinged[out.id].counts)) if out.id in pinged else None,
        )
        features.append(
            IncidentFeature(
                id=out.id,
                geometry=json.loads(geojson) if geojson else None,
                properties=properties,
            )
        )
    return IncidentFeatureCollection(features=features)


def active_incidents(
    session: Session, *, feeder: str | None = None, scope: Scope | None = None
) -> list[ActiveIncident]:
    """The incidents the engine may still update, oldest first (of its regions alone, when
    it works some)."""
    accounts = (
        select(func.array_agg(func.distinct(Customer.account)))
        .where(Customer.premise_id == Incident.premise_id)
        .correlate(Incident)
        .scalar_subquery()
    )
    query = (
        select(Incident, Device.asset_ref, Premise.ref, Feeder.name, accounts)
        .outerjoin(Device, Device.id == Incident.device_id)
        .outerjoin(Premise, Premise.id == Incident.premise_id)
        .outerjoin(Feeder, Feeder.id == Incident.feeder_id)
        .where(Incident.status.in_(sorted(ACTIVE)))
        .order_by(Incident.started_at, Incident.id)
    )
    if feeder is not None:
        query = query.where(Feeder.name == feeder)
    if scope is not None:  # where it is now: an import may have moved its device
        query = query.where(
            case(
                (
                    Device.id.is_not(None),
                    scope.holds_device(Device.id, Device.feeder_id, Device.substation_id),
                ),
                (Premise.id.is_not(None), scope.holds_feeder(Premise.feeder_id)),
                else_=scope.holds_feeder(Incident.feeder_id),
            )
        )
    return [
        ActiveIncident(
            id=incident.id,
            kind=incident.kind,
            status=incident.status,
            device=asset_ref,
            premise=premise,
            accounts=tuple(sorted(premise_accounts or ())),
            feeder=feeder_name,
            hazard=incident.hazard,
            confidence=incident.confidence,
            customers_affected=incident.customers_affected,
            started_at=incident.started_at,
            parent_id=incident.parent_id,
            crew_id=incident.crew_id,
            version=incident.version,
            placed_by=incident.placed_by,
        )
        for incident, asset_ref, premise, feeder_name, premise_accounts in session.execute(query)
    ]


def active_on_retired(session: Session, retiring: Retiring) -> list[str]:
    """A re-import's guard: the devices and premises it would retire that an active
    incident is on."""
    rows = session.execute(
        select(func.coalesce(Device.asset_ref, Premise.ref), Incident.id)
        .outerjoin(Device, Device.id == Incident.device_id)
        .outerjoin(Premise, Premise.id == Incident.premise_id)
        .where(
            Incident.status.in_(ACTIVE),
            Device.asset_ref.in_(sorted(retiring.devices))
            | Premise.ref.in_(sorted(retiring.premises)),
        )
        .order_by(Incident.id)
    )
    return [f"{ref} has active incident {incident_id}" for ref, incident_id in rows]


@dataclass(frozen=True)
class OutageLoad:
    """How hard the network is hit now: what a storm is proposed from."""

    incidents_last_hour: int
    customers_out: int


def outage_load(session: Session, *, now: datetime) -> OutageLoad:
    """Outages begun in the last hour (cancelled ones aside), and customers out now
    (nested outages inside larger ones counted once)."""
    recent = session.scalar(
        select(func.count())
        .select_from(Incident)
        .where(
            Incident.kind == IncidentKind.OUTAGE,
            Incident.status != IncidentStatus.CANCELLED,
            Incident.started_at > now - timedelta(hours=1),
            Incident.started_at <= now,
        )
    )
    out = session.scalar(
        select(
            func.coalesce(func.sum(Incident.customers_affected - Incident.customers_restored), 0)
        ).where(Incident.status.in_(sorted(ACTIVE)), Incident.parent_id.is_(None))
    )
    return OutageLoad(int(recent or 0), int(out or 0))
