"""The dispatch planner's inputs, read from the database: every active incident as the
planner sees it, and the optimiser's job made of it (for `outage.crews.planning`; where an
incident is, for `outage.crews.plan_view` too).

- Jobs: every active incident with a place (its device, its premise, or where its reports
  were made). Tiers: a hazard first, then critical customers out (hospitals, water
  pumping, life support, from `customers.critical` below the faulted device), then the
  customer-minutes at stake (`dispatch.priority`).
- A job's time on site and skills: history's estimate (`dispatch.etr`) and the device's or
  hazard's skills (`dispatch.work`), unless someone assessed the damage: then the newest
  assessment's crew-hours and crew type (`outage.crews.damage`).
- Kept as they are: an incident the crew is working on (en route, on site) stays with
  that crew at the head of its route; an incident a person assigned (the audit trail's
  last assignment is not the planner's) stays with that crew; a dispatcher's pin
  (`dispatch_pins`) puts an incident with a crew, at a place in its route if given.

Every function takes the session and plain values and never commits.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import model as dispatch
from dispatch.etr import (
    MIN_REMAINING_SHARE,
    SERVICE,
    EtrSource,
    RepairEstimate,
    RepairHistory,
    assessment_to_come,
    daytime,
)
from dispatch.work import skills_for
from grid_topology.model import DeviceKind
from grid_topology.topology import Topology
from outage.crews.damage import Assessed, newest_damage
from outage.crews.models import DispatchPin
from outage.grid.models import Customer, Device, Feeder, Premise
from outage.incidents.enums import AuditAction, IncidentKind
from outage.incidents.lifecycle import ACTIVE, IncidentStatus
from outage.incidents.models import Incident, IncidentEvent
from outage.incidents.schemas import DeviceRef
from outage.intake.enums import Hazard
from outage.intake.models import Report
from outage.storms.enums import EtrScope

PLANNER = "dispatch-planner"
"""The actor the planner writes in the incidents' audit trail."""

IN_PROGRESS = {IncidentStatus.ON_SITE: -2, IncidentStatus.PARTIALLY_RESTORED: -2}
"""On site: the crew's current job, ahead of any pinned order (pins count from 1)."""

HAZARD_KIND = "hazard"
"""The device kind of a hazard on no device, for repair estimates (the default applies)."""


@dataclass(frozen=True)
class Work:
    """One active incident as the planner sees it."""

    id: int
    status: IncidentStatus
    kind: str
    """Device kind, `SERVICE` for a single premise, `HAZARD_KIND` for neither."""
    device: DeviceRef | None
    premise: str | None
    address: str | None
    location: tuple[float, float] | None
    customers_out: int
    customers_affected: int
    hazard: Hazard | None
    is_hazard: bool
    cause: str | None
    crew_id: int | None
    assigned_by_planner: bool
    version: int
    etr: datetime | None
    etr_source: EtrSource | None
    etr_latest: datetime | None
    etr_scope: EtrScope
    on_site_since: datetime | None
    critical: tuple[str, ...]
    region: int | None = None
    """The substation whose area it is in (a storm's phases go by it); None when unknown."""
    damage: Assessed | None = None
    """The newest damage assessment's ask, which sizes the job instead of history."""


# --- reading incidents ---------------------------------------------------------------------


def incident_location() -> tuple[Any, Any]:
    """(lon, lat) of an incident: its device, else its premise, else its reports' middle."""
    reports = (
        select(func.ST_Centroid(func.ST_Collect(Report.geom)))
        .where(Report.incident_id == Incident.id, Report.geom.is_not(None))
        .correlate(Incident)
        .scalar_subquery()
    )
    point = func.coalesce(func.ST_PointOnSurface(func.coalesce(Device.geom, Premise.geom)), reports)
    return func.ST_X(point), func.ST_Y(point)


def _last_event(action: AuditAction, column: Any) -> Any:
    return (
        select(column)
        .where(IncidentEvent.incident_id == Incident.id, IncidentEvent.action == action)
        .order_by(IncidentEvent.at.desc(), IncidentEvent.id.desc())
        .limit(1)
        .correlate(Incident)
        .scalar_subquery()
    )


def _critical(
    session: Session, topology: Callable[[], Topology], rows: Iterable[Any]
) -> dict[int, tuple[str, ...]]:
    """Per incident, the kinds of the critical customers out (below its device, or at its
    premise)."""
    critical: dict[str, str] = {}
    by_premise: dict[str, list[str]] = {}
    for account, premise, kind in session.execute(
        select(Customer.account, Premise.ref, Customer.critical)
        .join(Premise, Customer.premise_id == Premise.id)
        .where(Customer.critical.is_not(None), Customer.critical != "")
    ).tuples():
        if kind is not None:
            critical[account] = kind
            by_premise.setdefault(premise, []).append(kind)
    found: dict[int, tuple[str, ...]] = {}
    network: Topology | None = None
    for row in rows:
        kinds: list[str] = []
        if row.asset_ref is not None and critical:
            network = network or topology()
            if row.asset_ref in network.network.links:
                accounts = network.downstream(row.asset_ref).accounts
                kinds = [critical[a] for a in accounts if a in critical]
        elif row.premise is not None:
            kinds = by_premise.get(row.premise, [])
        found[row.id] = tuple(sorted(kinds))
    return found


def active_work(session: Session, topology: Callable[[], Topology]) -> list[Work]:
    lon, lat = incident_location()
    rows = list(
        session.execute(
            select(
                Incident.id,
                Incident.status,
                Incident.kind,
                Incident.hazard,
                Incident.cause,
                Incident.crew_id,
                Incident.version,
                Incident.etr,
                Incident.etr_source,
                Incident.etr_latest,
                Incident.etr_scope,
                Incident.customers_affected,
                Incident.customers_restored,
                Device.asset_ref,
                Device.kind.label("device_kind"),
                Premise.ref.label("premise"),
                Premise.address,
                Feeder.substation_id.label("region"),
                lon.label("lon"),
                lat.label("lat"),
                _last_event(AuditAction.ASSIGNED, IncidentEvent.actor).label("assigned_by"),
                _last_event(AuditAction.ON_SITE, IncidentEvent.at).label("on_site_since"),
            )
            .outerjoin(Device, Device.id == Incident.device_id)
            .outerjoin(Premise, Premise.id == Incident.premise_id)
            .outerjoin(Feeder, Feeder.id == Incident.feeder_id)
            .where(Incident.status.in_(sorted(ACTIVE)))
            .order_by(Incident.id)
        )
    )
    critical = _critical(session, topology, rows)
    damage = newest_damage(session, [row.id for row in rows])
    works = []
    for row in rows:
        kind = row.device_kind or (SERVICE if row.premise else HAZARD_KIND)
        works.append(
            Work(
                id=row.id,
                status=row.status,
                kind=str(kind),
                device=(
                    DeviceRef(asset_ref=row.asset_ref, kind=DeviceKind(row.device_kind))
                    if row.asset_ref
                    else None
                ),
                premise=row.premise,
                address=row.address,
                location=(row.lon, row.lat) if row.lon is not None else None,
                customers_out=max(0, row.customers_affected - row.customers_restored),
                customers_affected=row.customers_affected,
                hazard=row.hazard,
                is_hazard=row.hazard is not None or row.kind is IncidentKind.HAZARD,
                cause=row.cause,
                crew_id=row.crew_id,
                assigned_by_planner=row.assigned_by == PLANNER,
                version=row.version,
                etr=row.etr,
                etr_source=row.etr_source,
                etr_latest=row.etr_latest,
                etr_scope=row.etr_scope,
                on_site_since=row.on_site_since,
                critical=critical[row.id],
                region=row.region,
                damage=damage.get(row.id),
            )
        )
    return works


# --- jobs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conditions:
    """What a repair estimate depends on beside the work itself."""

    now: datetime
    zone: tzinfo
    """Local time, for repairs by day and by night."""
    storm: bool


def repair_left(work: Work, history: RepairHistory, at: Conditions) -> RepairEstimate:
    """The repair still to do: all of it before the crew is on site, else what is left;
    the work assessed when someone assessed the damage (as the job's duration counts it)."""
    on_site = work.status in IN_PROGRESS and work.on_site_since is not None
    if work.damage is not None:
        work_s = work.damage.hours_needed * 3600
        if on_site and work.on_site_since is not None:
            done = max(0.0, (at.now - work.on_site_since).total_seconds())
            work_s = max(work_s - done, MIN_REMAINING_SHARE * work_s)
        by_day = daytime(at.now, at.zone)
        return history.assessed(work.kind, work_s, storm=at.storm, daytime=by_day)
    if on_site and work.on_site_since is not None:
        return history.estimate(
            work.kind,
            work.cause,
            storm=at.storm,
            daytime=daytime(work.on_site_since, at.zone),
            elapsed_s=max(0.0, (at.now - work.on_site_since).total_seconds()),
        )
    return history.estimate(work.kind, work.cause, storm=at.storm, daytime=daytime(at.now, at.zone))


def _on_site_s(work: Work, history: RepairHistory, at: Conditions) -> float:
    """Expected seconds on site still to come: assessment (`assessment_to_come`) and
    repair, less what is done."""
    left = repair_left(work, history, at)
    if work.status in IN_PROGRESS and work.on_site_since is not None:
        return left.expected_s
    return assessment_to_come(work.kind, left) + left.expected_s


def dispatch_job(
    work: Work,
    pins: Mapping[int, DispatchPin],
    history: RepairHistory,
    at: Conditions,
) -> dispatch.Job:
    assert work.location is not None
    pinned_crew: int | None = None
    pinned_order: int | None = None
    pin = pins.get(work.id)
    if pin is not None:
        pinned_crew, pinned_order = pin.crew_id, pin.position
    elif work.crew_id is not None and work.status in IN_PROGRESS:
        pinned_crew, pinned_order = work.crew_id, IN_PROGRESS[work.status]
    elif work.crew_id is not None and work.status is IncidentStatus.EN_ROUTE:
        pinned_crew, pinned_order = work.crew_id, -1
    elif work.crew_id is not None and not work.assigned_by_planner:
        pinned_crew = work.crew_id
    device_kind = work.device.kind.value if work.device else (SERVICE if work.premise else None)
    if work.damage is not None:
        # Someone saw the damage: their crew-hours (less what is done) and crew type beat
        # history's estimate, as in the ETR (`repair_left`).
        repair_s = repair_left(work, history, at).expected_s
        skills = frozenset({work.damage.crew_type_needed})
    else:
        repair_s = _on_site_s(work, history, at)
        skills = skills_for(device_kind, work.hazard.value if work.hazard else None)
    return dispatch.Job(
        id=work.id,
        location=work.location,
        repair_s=repair_s,
        skills=skills,
        customers=work.customers_out,
        critical=work.critical,
        hazard=work.is_hazard,
        pinned_crew=pinned_crew,
        pinned_order=pinned_order,
    )
