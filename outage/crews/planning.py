"""Planning and storing the dispatch plan: the optimiser run on the jobs of
`outage.crews.plan_inputs` and the crews on shift, the plan stored, assignments and
estimated ETRs written to the incidents; for the dispatch routes and the re-planning job.

- Written: the planner assigns (or moves) the incidents it places, through
  `outage.incidents.actions.apply_action`, as the actor `PLANNER`; it takes the crew
  away from an incident it had assigned and can no longer place. Estimated ETRs (a
  calibrated range, `dispatch.etr`) go to the incidents through `set_etr` with what they
  were made of, which never replaces a crew's or a dispatcher's.
- `replan` is cheap to call often: it plans only when what a plan depends on changed
  (a fingerprint of incidents, crews and pins), when the plan is old, or when an
  estimated ETR is about to lapse.

Every function takes the session and plain values and never commits.
"""

import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import delete, desc, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from dispatch import model as dispatch
from dispatch.etr import (
    DEFAULT_QUANTILES,
    REESTIMATE_MARGIN,
    Etr,
    EtrSource,
    ManualEtr,
    Quantiles,
    Stage,
    assessment_to_come,
    crew_backlog_s,
    estimate_etr,
    last_of,
    needs_reestimate,
)
from dispatch.model import UnassignedReason
from dispatch.optimizer import greedy_plan
from dispatch.optimizer import plan as optimise
from dispatch.priority import DEFAULT_PRIORITIES, Priorities, Tier
from dispatch.travel import GreatCircleTravel, TravelTime
from grid_topology.topology import Topology
from outage import locks
from outage.crews import damage
from outage.crews import service as crews
from outage.crews.etr import EtrModel, estimate_record, etr_model
from outage.crews.models import Crew, DispatchPin, DispatchPlan, DispatchPlanJob
from outage.crews.plan_inputs import (
    IN_PROGRESS,
    PLANNER,
    Conditions,
    Work,
    active_work,
    dispatch_job,
    repair_left,
)
from outage.incidents import changes
from outage.incidents.actions import apply_action
from outage.incidents.enums import Action
from outage.incidents.errors import (
    IncidentConflict,
    IncidentNotFound,
    InvalidIncidentValue,
    StaleVersion,
)
from outage.incidents.lifecycle import ACTIVE, IncidentStatus, InvalidTransition
from outage.incidents.models import Incident
from outage.incidents.schemas import IncidentPatch
from outage.settings import Settings
from outage.storms import service as storms
from outage.storms.enums import EtrScope, StormPhase
from outage.storms.models import Storm

KEPT_PLANS = 50
"""Older plans are deleted as new ones are stored."""

ETR_STEP = timedelta(minutes=5)
"""Estimated ETRs are rounded up to this: customers are told 14:35, not 14:33:07."""

ETR_CHANGE = timedelta(minutes=10)
"""A new estimate closer than this to the incident's is not worth telling customers."""

REESTIMATE_COOLDOWN = timedelta(minutes=5)
"""An ETR about to lapse makes `replan` plan again, at most this often."""

ASSIGNABLE = frozenset(
    {
        IncidentStatus.PREDICTED,
        IncidentStatus.CONFIRMED,
        IncidentStatus.DISPATCHED,
        IncidentStatus.EN_ROUTE,
    }
)
"""Statuses from which the planner may assign a crew (or another one)."""


# --- estimated ETRs -------------------------------------------------------------------------


def _rounded_up(moment: datetime) -> datetime:
    step = ETR_STEP.total_seconds()
    seconds = moment.timestamp()
    return moment + timedelta(seconds=math.ceil(seconds / step) * step - seconds)


def estimate_for(
    work: Work,
    result: dispatch.Plan,
    model: EtrModel,
    at: Conditions,
) -> Etr:
    """The ETR to tell customers (the crew's or dispatcher's until it is about to lapse)."""
    manual = None
    source = work.etr_source
    if work.etr is not None and source is not None and source is not EtrSource.PREDICTED:
        manual = ManualEtr(work.etr, source)
    repair = repair_left(work, model.history, at)
    if work.status in IN_PROGRESS:
        stage, travel, look, backlog = Stage.ON_SITE, 0.0, 0.0, 0.0
    else:
        visit = result.visit_of(work.id)
        stage = Stage.BEFORE_ARRIVAL
        travel = float(visit.travel_s) if visit else 0.0
        backlog = crew_backlog_s(result, work.id) or 0.0
        look = assessment_to_come(work.kind, repair)
    etr = estimate_etr(
        now=at.now,
        repair=repair,
        stage=stage,
        travel_s=travel,
        assessment_s=look,
        backlog_s=backlog,
        storm=at.storm,
        manual=manual,
        calibration=model.calibration,
    )
    if etr.earliest is None or etr.latest is None:
        return etr
    return replace(
        etr,
        expected=_rounded_up(etr.expected),
        earliest=_rounded_up(etr.earliest),
        latest=_rounded_up(etr.latest),
    )


# --- fingerprint ----------------------------------------------------------------------------


def fingerprint(session: Session) -> str:
    """Of everything a plan depends on: the active incidents and their damage assessed, the
    crews, the pins and the storm on (its phases decide which times are told)."""
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
    storm_rows = session.execute(select(Storm.id, Storm.version).where(Storm.ended_at.is_(None)))
    digest = hashlib.sha256()
    for rows in (
        [tuple(r) for r in incident_rows],
        damage.fingerprint_rows(session),
        crews.fingerprint_rows(session),
        list(pin_rows),
        list(storm_rows),
    ):
        digest.update(repr([tuple(r) for r in rows]).encode())
        digest.update(b"|")
    return digest.hexdigest()


# --- planning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanSettings:
    """What a planning run needs from the settings."""

    time_limit: timedelta
    storm_incidents: int
    position_max_age: timedelta
    plan_max_age: timedelta
    travel: TravelTime
    zone: tzinfo = UTC
    """Local time, for repairs by day and by night."""
    quantiles: Quantiles = DEFAULT_QUANTILES
    priorities: Priorities = DEFAULT_PRIORITIES

    @classmethod
    def from_settings(cls, settings: Settings) -> "PlanSettings":
        return cls(
            time_limit=settings.dispatch_time_limit_s,
            storm_incidents=settings.dispatch_storm_incidents,
            position_max_age=settings.dispatch_position_max_age_minutes,
            plan_max_age=settings.dispatch_plan_max_age_minutes,
            travel=GreatCircleTravel(
                road_factor=settings.dispatch_road_factor, speed_kmh=settings.dispatch_speed_kmh
            ),
            zone=settings.local_timezone,
            quantiles=settings.etr_quantiles(),
        )


def _act(session: Session, work: Work, patch: IncidentPatch) -> bool:
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


def _free(session: Session, works: Mapping[int, Work]) -> dict[int, Work]:
    """The works whose incidents nobody else is changing now, locked for this plan's
    writes. One being changed (by the engine's cycle) gets its assignment and ETR from the
    next plan: waiting for it while holding the others deadlocks with a cycle that locks
    them in another order."""
    free = set(
        session.scalars(
            select(Incident.id)
            .where(Incident.id.in_(list(works)))
            .order_by(Incident.id)
            .with_for_update(skip_locked=True, key_share=True)
        )
    )
    return {i: w for i, w in works.items() if i in free}


def _write_assignments(
    session: Session, works: Mapping[int, Work], result: dispatch.Plan, plan_id: int
) -> None:
    reason = f"dispatch plan {plan_id}"
    for crew_id, visit in result.visits():
        work = works.get(visit.job_id)
        if work is not None and work.crew_id != crew_id and work.status in ASSIGNABLE:
            patch = IncidentPatch(
                action=Action.ASSIGN, crew_id=crew_id, expected_version=work.version, reason=reason
            )
            _act(session, work, patch)
    for left in result.unassigned:
        work = works.get(left.job_id)
        if (
            work is not None
            and work.crew_id is not None
            and work.assigned_by_planner
            and work.status is IncidentStatus.DISPATCHED
        ):
            patch = IncidentPatch(
                action=Action.UNASSIGN,
                expected_version=work.version,
                reason=f"{reason}: {left.detail}",
            )
            _act(session, work, patch)


def worth_writing(work: Work, etr: Etr, now: datetime) -> bool:
    """Whether an estimate replaces the incident's ETR: when there is none, it is a storm's
    or an area's, the estimate moved enough, or the incident's is about to lapse (a crew's
    or dispatcher's only then)."""
    set_by_hand = work.etr_source not in (None, EtrSource.PREDICTED)
    if set_by_hand and work.etr is not None and not needs_reestimate(work.etr, now):
        return False
    if etr.earliest is None or etr.latest is None:
        return False
    return (
        work.etr is None
        or work.etr_scope is not EtrScope.OUTAGE
        or abs(etr.expected - work.etr) >= ETR_CHANGE
        or needs_reestimate(work.etr_latest or work.etr, now)
    )


def _etr_setting(work: Work, etr: Etr, now: datetime) -> changes.EtrSetting | None:
    """The plan's estimate as the incident's ETR, when it is worth writing."""
    if not worth_writing(work, etr, now):
        return None
    assert etr.earliest is not None and etr.latest is not None
    return changes.EtrSetting(
        work.id,
        etr.expected,
        EtrSource.PREDICTED,
        likely=(etr.earliest, etr.latest),
        estimate=estimate_record(etr),
        reason="estimated by the dispatch plan",
    )


def _write_storm_times(
    session: Session,
    works: Mapping[int, Work],
    etrs: Mapping[int, Etr],
    now: datetime,
) -> storms.StormState | None:
    """The storm's time and each region's: when the plan expects the last of their
    outages back. Written when they move enough, or before the expected time (the one
    customers are told) passes. The storm is read again and locked first, so a phase a
    supervisor changed while the plan was made stands; the storm as it now is (None when
    it ended meanwhile)."""
    declared = storms.current(session, lock=True)
    if declared is None:
        return None
    predicted = {i: e for i, e in etrs.items() if e.source is EtrSource.PREDICTED}
    by_region: dict[int, list[Etr]] = {}
    for job_id, etr in predicted.items():
        region = works[job_id].region
        if region is not None:
            by_region.setdefault(region, []).append(etr)
    regions = {}
    for region, estimates in by_region.items():
        times = last_of(estimates)
        own = declared.regions.get(region)
        if times is not None and worth_moving(held_time(own.etr if own else None), times, now):
            regions[region] = times
    overall = last_of(predicted.values())
    if overall is None or not worth_moving(held_time(declared.etr), overall, now):
        overall = declared.etr
    storms.set_times(session, declared.id, etr=overall, regions=regions, actor=PLANNER, now=now)
    return storms.current(session)


def held_time(times: tuple[datetime, datetime] | None) -> tuple[datetime, datetime] | None:
    """A storm's or an area's time as its outages' customers hold it: the expected one
    alone, which is also the one that must not pass."""
    return (times[0], times[0]) if times is not None else None


def _withdraw_etr(session: Session, work: Work) -> None:
    """While its region's damage is assessed an outage keeps no estimated time, so none
    lapses unseen (its customers are told the damage is being assessed)."""
    if work.etr is None or work.etr_source is not EtrSource.PREDICTED:
        return
    try:
        with session.begin_nested():
            changes.withdraw_etr(
                session, work.id, actor=PLANNER, reason="the storm's damage is being assessed"
            )
    except (IncidentConflict, InvalidIncidentValue, InvalidTransition):
        return


_PHASE_REASONS = {
    EtrScope.STORM: "the storm's time: its last outage expected back then",
    EtrScope.AREA: "the area's time in the storm: its last outage expected back then",
}


def _phase_setting(
    work: Work, storm: storms.StormState, now: datetime
) -> changes.EtrSetting | None:
    """In a storm's global or regional phase an outage's customers are told the storm's or
    their area's time (when the plan expects the last outage back), as the outage's ETR;
    re-estimated before it passes like any other."""
    times = storm.etr_of(work.region)
    if times is None:
        return None
    scope = EtrScope.STORM if storm.phase_of(work.region) is StormPhase.GLOBAL else EtrScope.AREA
    told = (work.etr, work.etr) if work.etr is not None else None
    if work.etr_scope is scope and not worth_moving(told, (times[0], times[0]), now):
        return None
    return changes.EtrSetting(
        work.id, times[0], EtrSource.PREDICTED, scope=scope, reason=_PHASE_REASONS[scope]
    )


def worth_moving(
    told: tuple[datetime, datetime] | None, new: tuple[datetime, datetime], now: datetime
) -> bool:
    """Whether one time for many (expected, latest) replaces the one told: as an
    outage's (`worth_writing`)."""
    if told is None:
        return True
    return abs(new[0] - told[0]) >= ETR_CHANGE or needs_reestimate(told[1], now)


def _store(
    session: Session,
    result: dispatch.Plan,
    greedy: dispatch.Plan,
    *,
    works: Mapping[int, Work],
    jobs: Mapping[int, dispatch.Job],
    etrs: Mapping[int, Etr],
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

    def job_row(work: Work, **placed: Any) -> DispatchPlanJob:
        job = jobs.get(work.id)
        return DispatchPlanJob(
            plan_id=row.id,
            incident_id=work.id,
            tier=priorities.tier(job) if job else (Tier.HAZARD if work.is_hazard else Tier.OUTAGE),
            weight=priorities.weight(job) if job else 0,
            critical=list(work.critical),
            pinned=job is not None and job.pinned_crew is not None,
            etr=etrs[work.id].expected if work.id in etrs else None,
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
    time_limit: timedelta | None = None,
) -> int:
    """Plan every active incident now, store the plan, write assignments and ETRs; its id.

    Waits for a planning run in another process to end first.
    """
    session.execute(select(func.pg_advisory_xact_lock(locks.PLANNER)))
    return _plan_locked(
        session,
        now=now,
        topology=topology,
        config=config,
        made_by=made_by,
        time_limit=time_limit,
    )


def _plan_locked(
    session: Session,
    *,
    now: datetime,
    topology: Callable[[], Topology],
    config: PlanSettings,
    made_by: str,
    time_limit: timedelta | None,
) -> int:
    session.execute(
        delete(DispatchPin).where(
            DispatchPin.incident_id.in_(
                select(Incident.id).where(Incident.status.not_in(sorted(ACTIVE)))
            )
        )
    )
    works = {w.id: w for w in active_work(session, topology)}
    pins = {p.incident_id: p for p in session.scalars(select(DispatchPin))}
    model = etr_model(session, now=now, quantiles=config.quantiles, zone=config.zone)
    declared = storms.current(session)
    storm = declared is not None or len(works) > config.storm_incidents
    at = Conditions(now=now, zone=config.zone, storm=storm)
    located = [w for w in works.values() if w.location is not None]
    jobs = {w.id: dispatch_job(w, pins, model.history, at) for w in located}
    crew_list = crews.planning_crews(session, now=now, position_max_age=config.position_max_age)
    arguments: dict[str, Any] = {"now": now, "priorities": config.priorities}
    greedy = greedy_plan(list(jobs.values()), crew_list, config.travel, **arguments)
    result = optimise(
        list(jobs.values()),
        crew_list,
        config.travel,
        time_limit_s=(time_limit or config.time_limit).total_seconds(),
        **arguments,
    )
    etrs = {job_id: estimate_for(works[job_id], result, model, at) for job_id in jobs}
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
    free = _free(session, works)
    _write_assignments(session, free, result, plan_id)
    if declared is not None:
        declared = _write_storm_times(session, works, etrs, now)
    settings = []
    for job_id, etr in etrs.items():
        work = free.get(job_id)
        if work is None:
            continue
        phase = declared.phase_of(work.region) if declared is not None else StormPhase.JOB
        if phase is StormPhase.ASSESSING:
            _withdraw_etr(session, work)
            continue
        if declared is None or phase is StormPhase.JOB:
            setting = _etr_setting(work, etr, now)
        else:
            setting = _phase_setting(work, declared, now)
        if setting is not None:
            settings.append(setting)
    changes.set_etrs(session, settings, actor=PLANNER)  # what no longer fits, the next plan sets
    session.flush()
    stored = session.get(DispatchPlan, plan_id)
    assert stored is not None
    stored.fingerprint = fingerprint(session)
    session.flush()
    return plan_id


def _lapsing(session: Session, now: datetime, margin: timedelta) -> bool:
    """Whether the ETR of an active incident lapses within `margin`: the latest time of an
    estimate's range, or a crew's or dispatcher's time."""
    return bool(
        session.scalar(
            select(func.count())
            .select_from(Incident)
            .where(
                Incident.status.in_(sorted(ACTIVE)),
                func.coalesce(Incident.etr_latest, Incident.etr) <= now + margin,
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
    if not session.scalar(select(func.pg_try_advisory_xact_lock(locks.PLANNER))):
        return None
    latest = session.execute(
        select(DispatchPlan.made_at, DispatchPlan.fingerprint)
        .order_by(desc(DispatchPlan.id))
        .limit(1)
    ).first()
    if latest is not None:
        made_at, stored = latest
        fresh = now - made_at < config.plan_max_age and stored == fingerprint(session)
        lapsing = now - made_at >= REESTIMATE_COOLDOWN and _lapsing(session, now, REESTIMATE_MARGIN)
        if fresh and not lapsing:
            return None
    elif not session.scalar(select(func.count()).select_from(Crew)):
        return None  # nobody to plan for
    return _plan_locked(
        session, now=now, topology=topology, config=config, made_by=PLANNER, time_limit=None
    )
