"""Restoration plans for an incident, and the switching orders drafted from them.

The plans are computed on the network as it stands (`LiveTopology.views`) and carry its
version. A dispatcher orders one by rank, sending back the version they saw: if the
network changed since, the plans may no longer hold and the request is refused with the
devices that changed; the same plan asked for twice answers the same order. The order
then follows the switching orders' approve/start/execute flow, checks and notices.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grid_topology import restoration
from outage.grid.live import Views
from outage.grid.models import Device
from outage.grid.switching import changes_since
from outage.incidents.enums import IncidentKind
from outage.incidents.lifecycle import ACTIVE
from outage.incidents.models import Incident
from outage.orders.enums import HOLDING, OrderState, StepAction
from outage.orders.models import SwitchingOrder
from outage.orders.schemas import OrderIn, OrderOut, StepIn
from outage.orders.service import draft, get_order
from outage.restoration.errors import (
    NotPlannable,
    RestorationPlanNotFound,
    RestorationUnderWay,
    StalePlan,
)
from outage.restoration.inputs import (
    Fault,
    crews,
    critical_of,
    customers_out,
    grid_data,
    hazards,
    locate,
)
from outage.restoration.models import HealingAttempt, RestorationOrder
from outage.restoration.schemas import (
    NetworkVersion,
    PlanOut,
    PlansOut,
    PlanStepOut,
    SelfHealingOut,
)
from outage.settings import Settings

PLANS = 5


@dataclass(frozen=True)
class Computed:
    fault: Fault
    data: restoration.GridData
    plans: list[restoration.Plan]


def incident_of(session: Session, incident_id: int, *, lock: bool = False) -> tuple[Incident, str]:
    incident = session.get(
        Incident, incident_id, with_for_update={"key_share": True} if lock else None
    )
    if incident is None:
        raise RestorationPlanNotFound(f"no incident {incident_id}")
    if incident.kind is not IncidentKind.OUTAGE or incident.status not in ACTIVE:
        raise NotPlannable(f"incident {incident_id} is not an active outage")
    if incident.device_id is None:
        raise NotPlannable(f"incident {incident_id} is not on a device: nothing to switch")
    device = session.scalar(select(Device.asset_ref).where(Device.id == incident.device_id))
    assert device is not None
    return incident, device


def _weight(plan: restoration.Plan, data: restoration.GridData, weight: float) -> float:
    return len(plan.restored) + (weight - 1) * critical_of(data, plan.restored)


def compute(
    session: Session,
    incident: Incident,
    device: str,
    *,
    network: Views,
    settings: Settings,
    now: datetime,
) -> Computed:
    """The planner's plans for the incident on this network. Plans that tie are put in
    the order of their steps, so the same network gives the same ranks in every process."""
    fault = locate(
        session,
        device,
        incident.started_at,
        network,
        indication_lead=settings.restoration_indication_minutes,
    )
    data = grid_data(session)
    repair = settings.restoration_repair_hours.total_seconds()
    if incident.etr is not None and incident.etr > now:
        repair = (incident.etr - now).total_seconds()
    options = restoration.Options(
        margin=settings.restoration_rating_margin,
        remote_seconds=settings.restoration_remote_s.total_seconds(),
        crews=crews(session, settings, now),
        repair_seconds=repair,
        plans=PLANS,
    )
    planned = restoration.Incident(
        faulted=fault.faulted, operated=fault.operated, hazards=hazards(session)
    )
    plans = [
        p
        for p in restoration.plan_restoration(network.energized, planned, data, options)
        if p.steps
    ]
    plans.sort(
        key=lambda p: (
            -_weight(p, data, options.critical_weight),
            -round(p.customer_minutes_saved, 3),
            tuple((s.asset_ref, s.open) for s in p.steps),
        )
    )
    return Computed(fault, data, plans)


def _plan_out(rank: int, plan: restoration.Plan, data: restoration.GridData) -> PlanOut:
    steps = [
        PlanStepOut(
            position=position,
            asset_ref=step.asset_ref,
            action=StepAction.OPEN if step.open else StepAction.CLOSE,
            remote=step.asset_ref in data.remote,
            at_seconds=round(step.at_seconds, 1),
            customers_restored=len(step.restored),
        )
        for position, step in enumerate(plan.steps, start=1)
    ]
    return PlanOut(
        rank=rank,
        steps=steps,
        customers_restored=len(plan.restored),
        critical_restored=critical_of(data, plan.restored),
        customers_left_out=len(plan.unsupplied),
        customer_minutes_saved=round(plan.customer_minutes_saved, 1),
        duration_seconds=round(plan.steps[-1].at_seconds, 1) if plan.steps else 0.0,
        all_remote=all(step.remote for step in steps),
        radial=plan.radial,
        peak_loading=round(plan.peak_loading, 4),
        most_loaded=plan.most_loaded,
    )


def version_of(network: Views) -> NetworkVersion:
    return NetworkVersion(switch=network.versions.switch, structure=network.versions.structure)


def restoration_plans(
    session: Session, incident_id: int, *, network: Views, settings: Settings, now: datetime
) -> PlansOut:
    """The ranked plans for an active outage, on the network as it is now, and what
    self-healing did with it."""
    incident, device = incident_of(session, incident_id)
    found = compute(session, incident, device, network=network, settings=settings, now=now)
    healed = session.scalar(select(HealingAttempt).where(HealingAttempt.incident_id == incident_id))
    return PlansOut(
        incident_id=incident_id,
        network_version=version_of(network),
        operated=list(found.fault.operated),
        faulted=sorted(found.fault.faulted),
        customers_out=customers_out(network, found.fault),
        plans=[_plan_out(rank, p, found.data) for rank, p in enumerate(found.plans, start=1)],
        self_healing=None if healed is None else SelfHealingOut.model_validate(healed),
    )


def _existing(
    session: Session, incident_id: int, rank: int, seen: NetworkVersion
) -> RestorationOrder | None:
    return session.scalar(
        select(RestorationOrder).where(
            RestorationOrder.incident_id == incident_id,
            RestorationOrder.rank == rank,
            RestorationOrder.switch_version == seen.switch,
            RestorationOrder.structure_version == seen.structure,
        )
    )


def _refuse_stale(session: Session, seen: NetworkVersion, network: Views) -> None:
    now = network.versions
    if (seen.switch, seen.structure) == (now.switch, now.structure):
        return
    if seen.structure != now.structure:
        why = "the network itself was changed by an import"
    else:
        changed = sorted(s.asset_ref for s in changes_since(session, seen.switch).states)
        shown = ", ".join(changed[:10]) + (" ..." if len(changed) > 10 else "")
        why = f"devices switched since: {shown}" if changed else "devices were switched"
    raise StalePlan(
        f"the network changed since the plans were read (version {seen.switch}/"
        f"{seen.structure}, now {now.switch}/{now.structure}): {why}; read the plans again"
    )


def _refuse_second(session: Session, incident_id: int) -> None:
    other = session.execute(
        select(SwitchingOrder.id, SwitchingOrder.state)
        .join(RestorationOrder, RestorationOrder.order_id == SwitchingOrder.id)
        .where(
            RestorationOrder.incident_id == incident_id,
            SwitchingOrder.state.in_([OrderState.DRAFT, *HOLDING]),
        )
        .limit(1)
    ).first()
    if other is not None:
        raise RestorationUnderWay(
            f"incident {incident_id} already has restoration order {other.id} "
            f"({other.state.value}): finish or abort it first"
        )


def order_plan(
    session: Session,
    incident_id: int,
    rank: int,
    seen: NetworkVersion,
    *,
    actor: str,
    network: Views,
    settings: Settings,
    now: datetime,
) -> tuple[OrderOut, bool]:
    """Draft the switching order of plan `rank`, linked to the incident; True when it was
    drafted now, False when the same plan was ordered before (its order is answered).

    Refused (409) when the network is no longer at version `seen`, or while another
    restoration order of the incident is not finished."""
    incident, device = incident_of(session, incident_id, lock=True)
    existing = _existing(session, incident_id, rank, seen)
    if existing is not None:
        return get_order(session, existing.order_id), False
    _refuse_stale(session, seen, network)
    _refuse_second(session, incident_id)
    found = compute(session, incident, device, network=network, settings=settings, now=now)
    if not 1 <= rank <= len(found.plans):
        raise RestorationPlanNotFound(
            f"incident {incident_id} has {len(found.plans)} plan(s), not {rank}"
        )
    order = draft_plan(
        session,
        incident_id,
        rank,
        found.plans[rank - 1],
        seen,
        actor=actor,
        network=network,
        now=now,
    )
    return order, True


def draft_plan(
    session: Session,
    incident_id: int,
    rank: int,
    plan: restoration.Plan,
    seen: NetworkVersion,
    *,
    actor: str,
    network: Views,
    now: datetime,
    steps: int | None = None,
    automatic: bool = False,
) -> OrderOut:
    """Draft the switching order of the plan ranked `rank` (its first `steps` steps: all
    when None), linked to the incident and recorded under the plan's key; `automatic`:
    drafted by the system (self-healing)."""
    taken = plan.steps if steps is None else plan.steps[:steps]
    title = f"Restore incident {incident_id} by switching (plan {rank})"
    if automatic:
        title = f"Self-healing: {title[0].lower()}{title[1:]}, remote-controlled steps"
    restored = sum(len(step.restored) for step in taken)
    order = draft(
        session,
        OrderIn(
            title=title,
            reason=(
                f"restoration by switching: {restored} customer(s) back, "
                f"{len(plan.restored) + len(plan.unsupplied) - restored} left out until "
                "the repair"
            ),
            steps=[
                StepIn(
                    action=StepAction.OPEN if step.open else StepAction.CLOSE,
                    asset_ref=step.asset_ref,
                    note=f"+{step.at_seconds / 60:.0f} min, {len(step.restored)} customer(s) back",
                )
                for step in taken
            ],
            incident_id=incident_id,
        ),
        actor=actor,
        topology=network.energized,
        now=now,
    )
    try:
        with session.begin_nested():
            session.add(
                RestorationOrder(
                    incident_id=incident_id,
                    order_id=order.id,
                    rank=rank,
                    structure_version=seen.structure,
                    switch_version=seen.switch,
                    automatic=automatic,
                )
            )
    except IntegrityError as exc:
        raise RestorationUnderWay(
            f"plan {rank} of incident {incident_id} is being ordered by someone else"
        ) from exc
    return order
