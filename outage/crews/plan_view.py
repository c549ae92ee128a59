"""The dispatch plan as read back: the newest plan with its incidents as they are now (what
GET /api/v1/dispatch/plan answers) and a crew's jobs in the plan's order (the /crew page).

Every function takes the session and plain values and never commits.
"""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.model import Method
from dispatch.priority import Tier
from grid_topology.model import DeviceKind
from outage.crews import service as crews
from outage.crews.models import DispatchPlan, DispatchPlanJob
from outage.crews.pins import PlanNotFound, list_pins
from outage.crews.plan_inputs import incident_location
from outage.crews.schemas import CrewRouteOut, PlannedJobOut, PlanOut, UnassignedOut
from outage.grid.models import Device, Premise
from outage.incidents.lifecycle import ACTIVE
from outage.incidents.models import Incident
from outage.incidents.schemas import DeviceRef


def _job_query() -> Any:
    lon, lat = incident_location()
    return (
        select(
            Incident.id,
            Incident.status,
            Incident.version,
            Incident.customers_affected,
            Incident.hazard,
            Incident.etr,
            Incident.etr_source,
            Incident.etr_earliest,
            Incident.etr_latest,
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
        tier=job.tier if job else (Tier.HAZARD if row.hazard else Tier.OUTAGE),
        pinned=job.pinned if job else False,
        sequence=job.sequence if job else None,
        planned_arrival=job.arrival if job else None,
        planned_start=job.start if job else None,
        planned_finish=job.finish if job else None,
        travel_s=job.travel_s if job else None,
        planned_etr=job.etr if job else None,
        etr=row.etr,
        etr_source=row.etr_source,
        etr_earliest=row.etr_earliest,
        etr_latest=row.etr_latest,
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
