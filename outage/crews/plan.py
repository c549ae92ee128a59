"""The dispatch plan: jobs from the active incidents, crews from their shifts, the optimiser's
answer stored, assignments and estimated ETRs written to the incidents.

- Jobs: every active incident with a place (its device, its premise, or where its reports
  were made). Tiers: a hazard first, then critical customers out (hospitals, water
  pumping, life support, from `customers.critical` below the faulted device), then the
  customer-minutes at stake (`dispatch.priority`).
- Kept as they are: an incident the crew is working on (en route, on site) stays with
  that crew at the head of its route; an incident a person assigned (the audit trail's
  last assignment is not the planner's) stays with that crew; a dispatcher's pin
  (`dispatch_pins`) puts an incident with a crew, at a place in its route if given.
- Written: the planner assigns (or moves) the incidents it places, through
  `outage.incidents.actions.apply_action`, as the actor `PLANNER`; it takes the crew
  away from an incident it had assigned and can no longer place. Estimated ETRs (the
  cautious one, `dispatch.etr`) go to the incidents through `set_etr`, which never
  replaces a crew's or a dispatcher's.
- `replan` is cheap to call often: it plans only when what a plan depends on changed
  (a fingerprint of incidents, crews and pins), when the plan is old, or when an
  estimated ETR is about to lapse.

Every function takes the session and plain values and never commits.
"""

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, desc, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from dispatch import model as dispatch
from dispatch.etr import (
    SERVICE,
    ManualEtr,
    RepairHistory,
    assessment_s,
    crew_backlog_s,
    estimate_etr,
    needs_reestimate,
)
from dispatch.etr import EtrSource as DispatchEtrSource
from dispatch.model import Method, UnassignedReason
from dispatch.optimizer import greedy_plan
from dispatch.optimizer import plan as optimise
from dispatch.priority import DEFAULT_PRIORITIES, Priorities
from dispatch.travel import GreatCircleTravel, TravelTime
from dispatch.work import skills_for
from grid_topology.model import DeviceKind
from grid_topology.topology import Topology
from outage.crews import service as crews
from outage.crews.etr import repair_history
from outage.crews.models import Crew, DispatchPin, DispatchPlan, DispatchPlanJob
from outage.crews.schemas import (
    CrewRouteOut,
    PinIn,
    PinOut,
    PlannedJobOut,
    PlanOut,
    UnassignedOut,
)
from outage.grid.models import Customer, Device, Premise
from outage.incidents import changes
from outage.incidents.actions import apply_action
from outage.incidents.enums import Action, AuditAction, EtrSource, IncidentKind
from outage.incidents.errors import IncidentConflict, IncidentNotFound, InvalidValue, StaleVersion
from outage.incidents.lifecycle import ACTIVE, IncidentStatus, InvalidTransition
from outage.incidents.models import Incident, IncidentEvent
from outage.incidents.schemas import DeviceRef, IncidentPatch
from outage.intake.enums import Hazard
from outage.intake.models import Report
from outage.settings import Settings

PLANNER = "dispatch-planner"
"""The actor the planner writes in the incidents' audit trail."""

PLAN_LOCK = 0x64697370617463
"""Advisory lock key: one planner at a time across processes."""

KEPT_PLANS = 50
"""Older plans are deleted as new ones are stored."""

ETR_STEP = timedelta(minutes=5)
"""Estimated ETRs are rounded up to this: customers are told 14:35, not 14:33:07."""

ETR_CHANGE = timedelta(minutes=10)
"""A new estimate closer than this to the incident's is not worth telling customers."""

REESTIMATE_COOLDOWN = timedelta(minutes=5)
"""An ETR about to lapse makes `replan` plan again, at most this often."""

IN_PROGRESS = {IncidentStatus.ON_SITE: -2, IncidentStatus.PARTIALLY_RESTORED: -2}
"""On site: the crew's current job, ahead of any pinned order (pins count from 1)."""

ASSIGNABLE = frozenset(
    {
        IncidentStatus.PREDICTED,
        IncidentStatus.CONFIRMED,
        IncidentStatus.DISPATCHED,
        IncidentStatus.EN_ROUTE,
    }
)
"""Statuses from which the planner may assign a crew (or another one)."""

HAZARD_KIND = "hazard"
"""The device kind of a hazard on no device, for repair estimates (the default applies)."""


class PlanConflict(ValueError):
    """A pin that cannot be: the incident is not active."""


class PlanNotFound(LookupError):
    """No plan yet, or no such incident or crew."""


@dataclass(frozen=True)
class _Work:
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
    on_site_since: datetime | None
    critical: tuple[str, ...]


# --- reading incidents ---------------------------------------------------------------------


def _location() -> tuple[Any, Any]:
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


def _active_work(session: Session, topology: Callable[[], Topology]) -> list[_Work]:
    lon, lat = _location()
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
                Incident.customers_affected,
                Incident.customers_restored,
                Device.asset_ref,
                Device.kind.label("device_kind"),
                Premise.ref.label("premise"),
                Premise.address,
                lon.label("lon"),
                lat.label("lat"),
                _last_event(AuditAction.ASSIGNED, IncidentEvent.actor).label("assigned_by"),
                _last_event(AuditAction.ON_SITE, IncidentEvent.at).label("on_site_since"),
            )
            .outerjoin(Device, Device.id == Incident.device_id)
            .outerjoin(Premise, Premise.id == Incident.premise_id)
            .where(Incident.status.in_(sorted(ACTIVE)))
            .order_by(Incident.id)
        )
    )
    critical = _critical(session, topology, rows)
    works = []
    for row in rows:
        kind = row.device_kind or (SERVICE if row.premise else HAZARD_KIND)
        works.append(
            _Work(
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
                on_site_since=row.on_site_since,
                critical=critical[row.id],
            )
        )
    return works


# --- jobs -------------------------------------------------------------------------------


def _repair_s(work: _Work, history: RepairHistory, now: datetime) -> tuple[float, float]:
    """(typical, cautious) seconds left on site: assessment and repair, less what is done."""
    if work.status in IN_PROGRESS and work.on_site_since is not None:
        elapsed = max(0.0, (now - work.on_site_since).total_seconds())
        left = history.estimate(work.kind, work.cause, elapsed_s=elapsed)
        return left.typical_s, left.cautious_s
    repair = history.estimate(work.kind, work.cause)
    look = assessment_s(work.kind)
    return look + repair.typical_s, look + repair.cautious_s


def _job(
    work: _Work, pins: Mapping[int, DispatchPin], history: RepairHistory, now: datetime
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
    return dispatch.Job(
        id=work.id,
        location=work.location,
        repair_s=_repair_s(work, history, now)[0],
        skills=skills_for(device_kind, work.hazard.value if work.hazard else None),
        customers=work.customers_out,
        critical=work.critical,
        hazard=work.is_hazard,
        pinned_crew=pinned_crew,
        pinned_order=pinned_order,
    )


def _rounded_up(moment: datetime) -> datetime:
    step = ETR_STEP.total_seconds()
    seconds = moment.timestamp()
    return moment + timedelta(seconds=math.ceil(seconds / step) * step - seconds)


def _etr(
    work: _Work,
    result: dispatch.Plan,
    history: RepairHistory,
    *,
    now: datetime,
    storm: bool,
) -> datetime:
    """The cautious ETR to tell customers (the crew's or dispatcher's while it lies ahead)."""
    manual = None
    if work.etr is not None and work.etr_source not in (None, EtrSource.PREDICTED):
        manual = ManualEtr(work.etr, DispatchEtrSource(str(work.etr_source)))
    visit = result.visit_of(work.id)
    if work.status in IN_PROGRESS:
        travel, look, backlog = 0.0, 0.0, 0.0
        elapsed = (now - work.on_site_since).total_seconds() if work.on_site_since else 0.0
        repair = history.estimate(work.kind, work.cause, elapsed_s=max(0.0, elapsed))
    else:
        travel = float(visit.travel_s) if visit else 0.0
        backlog = crew_backlog_s(result, work.id) or 0.0
        look = assessment_s(work.kind)
        repair = history.estimate(work.kind, work.cause)
    etr = estimate_etr(
        now=now,
        repair=repair,
        travel_s=travel,
        assessment_s=look,
        backlog_s=backlog,
        storm=storm,
        manual=manual,
    )
    if etr.source is not DispatchEtrSource.PREDICTED:
        return etr.cautious
    return _rounded_up(etr.cautious)


# --- fingerprint ----------------------------------------------------------------------------


def fingerprint(session: Session) -> str:
    """Of everything a plan depends on: the active incidents, the crews and the pins."""
    incident_rows = session.execute(
        select(
            Incident.id,
            Incident.status,
            Incident.crew_id,
            Incident.device_id,
            Incident.premise_id,
            Incident.hazard,
            Incident.cause,
            Incident.customers_affected,
            Incident.customers_restored,
            Incident.etr_source,
        )
        .where(Incident.status.in_(sorted(ACTIVE)))
        .order_by(Incident.id)
    )
    pin_rows = session.execute(
        select(DispatchPin.incident_id, DispatchPin.crew_id, DispatchPin.position).order_by(
            DispatchPin.incident_id
        )
    )
    digest = hashlib.sha256()
    for rows in (
        [tuple(r) for r in incident_rows],
        crews.fingerprint_rows(session),
        list(pin_rows),
    ):
        digest.update(repr([tuple(r) for r in rows]).encode())
        digest.update(b"|")
    return digest.hexdigest()


# --- planning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanSettings:
    """What a planning run needs from the settings."""

    time_limit_s: float
    storm_incidents: int
    position_max_age: timedelta
    plan_max_age: timedelta
    travel: TravelTime
    priorities: Priorities = DEFAULT_PRIORITIES

    @classmethod
    def from_settings(cls, settings: Settings) -> "PlanSettings":
        return cls(
            time_limit_s=settings.dispatch_time_limit_s,
            storm_incidents=settings.dispatch_storm_incidents,
            position_max_age=timedelta(minutes=settings.dispatch_position_max_age_minutes),
            plan_max_age=timedelta(minutes=settings.dispatch_plan_max_age_minutes),
            travel=GreatCircleTravel(
                road_factor=settings.dispatch_road_factor, speed_kmh=settings.dispatch_speed_kmh
            ),
        )


def _act(session: Session, work: _Work, patch: IncidentPatch) -> bool:
    """One assignment change; False when the incident changed meanwhile (left as it is)."""
    try:
        with session.begin_nested():
            apply_action(session, work.id, patch, PLANNER)
    except (
        IncidentConflict,
        StaleVersion,
        IncidentNotFound,
        InvalidTransition,
        StaleDataError,
    ):
        return False
    return True


def _write_assignments(
    session: Session, works: Mapping[int, _Work], result: dispatch.Plan, plan_id: int
) -> None:
    reason = f"dispatch plan {plan_id}"
    for crew_id, visit in result.visits():
        work = works[visit.job_id]
        if work.crew_id != crew_id and work.status in ASSIGNABLE:
            patch = IncidentPatch(
                action=Action.ASSIGN, crew_id=crew_id, expected_version=work.version, reason=reason
            )
            _act(session, work, patch)
    for left in result.unassigned:
        work = works[left.job_id]
        if (
            work.crew_id is not None
            and work.assigned_by_planner
            and work.status is IncidentStatus.DISPATCHED
        ):
            patch = IncidentPatch(
                action=Action.UNASSIGN,
                expected_version=work.version,
                reason=f"{reason}: {left.detail}",
            )
            _act(session, work, patch)


def _write_etr(session: Session, work: _Work, etr: datetime, now: datetime) -> None:
    """Set an estimated ETR when it moved enough, or the old one is about to lapse."""
    set_by_hand = work.etr_source not in (None, EtrSource.PREDICTED)
    if set_by_hand and work.etr is not None and work.etr > now:
        return  # a crew's or dispatcher's ETR wins while it lies ahead
    if (
        work.etr is not None
        and abs(etr - work.etr) < ETR_CHANGE
        and not needs_reestimate(work.etr, now)
    ):
        return
    try:
        with session.begin_nested():
            changes.set_etr(
                session,
                work.id,
                etr=etr,
                source=EtrSource.PREDICTED,
                actor=PLANNER,
                reason="estimated by the dispatch plan",
            )
    except (IncidentConflict, InvalidValue, InvalidTransition):
        return


def _store(
    session: Session,
    result: dispatch.Plan,
    greedy: dispatch.Plan,
    *,
    works: Mapping[int, _Work],
    jobs: Mapping[int, dispatch.Job],
    etrs: Mapping[int, datetime],
    made_by: str,
    storm: bool,
    priorities: Priorities,
) -> int:
    row = DispatchPlan(
        made_at=result.made_at,
        made_by=made_by,
        method=result.method,
        objective=result.objective,
        cmi=result.cmi,
        greedy_objective=greedy.objective,
        greedy_cmi=greedy.cmi,
        solve_s=result.solve_s,
        storm=storm,
        note=result.note,
        fingerprint="",
    )
    session.add(row)
    session.flush()

    def job_row(work: _Work, **placed: Any) -> DispatchPlanJob:
        job = jobs.get(work.id)
        return DispatchPlanJob(
            plan_id=row.id,
            incident_id=work.id,
            tier=priorities.tier(job) if job else ("hazard" if work.is_hazard else "outage"),
            weight=priorities.weight(job) if job else 0,
            critical=list(work.critical),
            pinned=job is not None and job.pinned_crew is not None,
            etr=etrs.get(work.id),
            **placed,
        )

    for assignment in result.assignments:
        for sequence, visit in enumerate(assignment.visits, start=1):
            session.add(
                job_row(
                    works[visit.job_id],
                    crew_id=assignment.crew_id,
                    sequence=sequence,
                    arrival=visit.arrival,
                    start=visit.start,
                    finish=visit.finish,
                    travel_s=visit.travel_s,
                )
            )
    for left in result.unassigned:
        session.add(job_row(works[left.job_id], unassigned_reason=left.reason, detail=left.detail))
    for work in works.values():
        if work.location is None:
            session.add(
                job_row(
                    work,
                    unassigned_reason=UnassignedReason.NO_LOCATION,
                    detail="no device, premise or report location yet",
                )
            )
    session.flush()
    session.execute(delete(DispatchPlan).where(DispatchPlan.id <= row.id - KEPT_PLANS))
    return row.id


def make_plan(
    session: Session,
    *,
    now: datetime,
    topology: Callable[[], Topology],
    config: PlanSettings,
    made_by: str = PLANNER,
    time_limit_s: float | None = None,
) -> int:
    """Plan every active incident now, store the plan, write assignments and ETRs; its id.

    Waits for a planning run in another process to end first.
    """
    session.execute(select(func.pg_advisory_xact_lock(PLAN_LOCK)))
    return _plan_locked(
        session,
        now=now,
        topology=topology,
        config=config,
        made_by=made_by,
        time_limit_s=time_limit_s,
    )


def _plan_locked(
    session: Session,
    *,
    now: datetime,
    topology: Callable[[], Topology],
    config: PlanSettings,
    made_by: str,
    time_limit_s: float | None,
) -> int:
    session.execute(
        delete(DispatchPin).where(
            DispatchPin.incident_id.in_(
                select(Incident.id).where(Incident.status.not_in(sorted(ACTIVE)))
            )
        )
    )
    works = {w.id: w for w in _active_work(session, topology)}
    pins = {p.incident_id: p for p in session.scalars(select(DispatchPin))}
    history = repair_history(session, now=now)
    jobs = {w.id: _job(w, pins, history, now) for w in works.values() if w.location is not None}
    crew_list = crews.planning_crews(session, now=now, position_max_age=config.position_max_age)
    storm = len(works) > config.storm_incidents
    arguments: dict[str, Any] = {"now": now, "priorities": config.priorities}
    greedy = greedy_plan(list(jobs.values()), crew_list, config.travel, **arguments)
    result = optimise(
        list(jobs.values()),
        crew_list,
        config.travel,
        time_limit_s=time_limit_s or config.time_limit_s,
        **arguments,
    )
    etrs = {job_id: _etr(works[job_id], result, history, now=now, storm=storm) for job_id in jobs}
    plan_id = _store(
        session,
        result,
        greedy,
        works=works,
        jobs=jobs,
        etrs=etrs,
        made_by=made_by,
        storm=storm,
        priorities=config.priorities,
    )
    _write_assignments(session, works, result, plan_id)
    for job_id, etr in etrs.items():
        _write_etr(session, works[job_id], etr, now)
    session.flush()
    stored = session.get(DispatchPlan, plan_id)
    assert stored is not None
    stored.fingerprint = fingerprint(session)
    session.flush()
    return plan_id


def _lapsing(session: Session, now: datetime, margin: timedelta) -> bool:
    """Whether an estimated ETR of an active incident lapses within `margin`."""
    return bool(
        session.scalar(
            select(func.count())
            .select_from(Incident)
            .where(
                Incident.status.in_(sorted(ACTIVE)),
                Incident.etr_source == EtrSource.PREDICTED,
                Incident.etr <= now + margin,
            )
        )
    )


def replan(
    session: Session,
    *,
    now: datetime,
    topology: Callable[[], Topology],
    config: PlanSettings,
) -> int | None:
    """Plan again if incidents, crews or pins changed since the last plan, the plan is
    older than `config.plan_max_age`, or an estimated ETR is about to lapse; the new plan's
    id, or None when nothing needed it (or another process is planning right now)."""
    if not session.scalar(select(func.pg_try_advisory_xact_lock(PLAN_LOCK))):
        return None
    latest = session.execute(
        select(DispatchPlan.made_at, DispatchPlan.fingerprint)
        .order_by(desc(DispatchPlan.id))
        .limit(1)
    ).first()
    if latest is not None:
        made_at, stored = latest
        fresh = now - made_at < config.plan_max_age and stored == fingerprint(session)
        lapsing = now - made_at >= REESTIMATE_COOLDOWN and _lapsing(
            session, now, timedelta(minutes=15)
        )
        if fresh and not lapsing:
            return None
    elif not session.scalar(select(func.count()).select_from(Crew)):
        return None  # nobody to plan for
    return _plan_locked(
        session, now=now, topology=topology, config=config, made_by=PLANNER, time_limit_s=None
    )


# --- pins -------------------------------------------------------------------------------


def set_pin(session: Session, pin: PinIn, *, by: str) -> PinOut:
    """Pin an active incident to a crew (replacing its pin, if any)."""
    status = session.scalar(select(Incident.status).where(Incident.id == pin.incident_id))
    if status is None:
        raise PlanNotFound(f"no incident {pin.incident_id}")
    if status not in ACTIVE:
        raise PlanConflict(f"incident {pin.incident_id} is {status.value}: nothing to dispatch")
    if session.get(Crew, pin.crew_id) is None:
        raise PlanNotFound(f"no crew {pin.crew_id}")
    session.execute(delete(DispatchPin).where(DispatchPin.incident_id == pin.incident_id))
    row = DispatchPin(
        incident_id=pin.incident_id, crew_id=pin.crew_id, position=pin.order, pinned_by=by
    )
    session.add(row)
    session.flush()
    session.refresh(row)
    return _pin_out(row)


def remove_pin(session: Session, incident_id: int) -> None:
    removed = session.execute(delete(DispatchPin).where(DispatchPin.incident_id == incident_id))
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise PlanNotFound(f"incident {incident_id} has no pin")


def _pin_out(pin: DispatchPin) -> PinOut:
    return PinOut(
        incident_id=pin.incident_id,
        crew_id=pin.crew_id,
        order=pin.position,
        pinned_by=pin.pinned_by,
        pinned_at=pin.pinned_at,
    )


def list_pins(session: Session) -> list[PinOut]:
    return [
        _pin_out(p) for p in session.scalars(select(DispatchPin).order_by(DispatchPin.incident_id))
    ]


# --- reading plans --------------------------------------------------------------------------


def _job_query() -> Any:
    lon, lat = _location()
    return (
        select(
            Incident.id,
            Incident.status,
            Incident.version,
            Incident.customers_affected,
            Incident.hazard,
            Incident.etr,
            Incident.etr_source,
            Device.asset_ref,
            Device.kind.label("device_kind"),
            Premise.ref.label("premise"),
            Premise.address,
            lon.label("lon"),
            lat.label("lat"),
        )
        .outerjoin(Device, Device.id == Incident.device_id)
        .outerjoin(Premise, Premise.id == Incident.premise_id)
    )


def _planned_job(row: Any, job: DispatchPlanJob | None) -> PlannedJobOut:
    return PlannedJobOut(
        incident_id=row.id,
        status=row.status,
        version=row.version,
        device=(
            DeviceRef(asset_ref=row.asset_ref, kind=DeviceKind(row.device_kind))
            if row.asset_ref
            else None
        ),
        premise=row.premise,
        address=row.address,
        lat=row.lat,
        lon=row.lon,
        customers_affected=row.customers_affected,
        hazard=row.hazard,
        critical=list(job.critical) if job else [],
        tier=job.tier if job else ("hazard" if row.hazard else "outage"),
        pinned=job.pinned if job else False,
        sequence=job.sequence if job else None,
        planned_arrival=job.arrival if job else None,
        planned_start=job.start if job else None,
        planned_finish=job.finish if job else None,
        travel_s=job.travel_s if job else None,
        planned_etr=job.etr if job else None,
        etr=row.etr,
        etr_source=row.etr_source,
    )


def _latest_plan_id(session: Session) -> int | None:
    return session.scalar(select(func.max(DispatchPlan.id)))


def read_plan(session: Session) -> PlanOut:
    """The newest plan, each crew's jobs in order, with the incidents as they are now."""
    plan_id = _latest_plan_id(session)
    if plan_id is None:
        raise PlanNotFound("no dispatch plan yet: POST /api/v1/dispatch/plan makes one")
    plan = session.get(DispatchPlan, plan_id)
    assert plan is not None
    planned = {
        j.incident_id: j
        for j in session.scalars(select(DispatchPlanJob).where(DispatchPlanJob.plan_id == plan_id))
    }
    rows = {r.id: r for r in session.execute(_job_query().where(Incident.id.in_(planned)))}
    names = crews.crew_names(session)
    routes: dict[int, list[PlannedJobOut]] = {}
    unassigned = []
    for incident_id, job in sorted(planned.items(), key=lambda kv: (kv[1].sequence or 0, kv[0])):
        out = _planned_job(rows[incident_id], job)
        if job.crew_id is None:
            assert job.unassigned_reason is not None
            unassigned.append(
                UnassignedOut(job=out, reason=job.unassigned_reason, detail=job.detail or "")
            )
        else:
            routes.setdefault(job.crew_id, []).append(out)
    return PlanOut(
        id=plan.id,
        made_at=plan.made_at,
        made_by=plan.made_by,
        method=Method(plan.method),
        note=plan.note,
        solve_s=plan.solve_s,
        storm=plan.storm,
        weighted_customer_minutes=plan.objective,
        customer_minutes=plan.cmi,
        greedy_weighted_customer_minutes=plan.greedy_objective,
        greedy_customer_minutes=plan.greedy_cmi,
        crews=[
            CrewRouteOut(crew_id=crew_id, crew_name=names.get(crew_id, ""), jobs=jobs)
            for crew_id, jobs in sorted(routes.items())
        ],
        unassigned=unassigned,
        pins=list_pins(session),
    )


def crew_jobs(session: Session, crew_id: int) -> list[PlannedJobOut]:
    """A crew's active incidents in the order of the newest plan (those it does not know
    of, assigned since, at the end)."""
    plan_id = _latest_plan_id(session)
    planned: dict[int, DispatchPlanJob] = {}
    if plan_id is not None:
        planned = {
            j.incident_id: j
            for j in session.scalars(
                select(DispatchPlanJob).where(
                    DispatchPlanJob.plan_id == plan_id, DispatchPlanJob.crew_id == crew_id
                )
            )
        }
    rows = session.execute(
        _job_query().where(Incident.crew_id == crew_id, Incident.status.in_(sorted(ACTIVE)))
    )
    jobs = [_planned_job(row, planned.get(row.id)) for row in rows]
    return sorted(jobs, key=lambda j: (j.sequence is None, j.sequence or 0, j.incident_id))
