"""What customers hear of a switching order, through the outbox like everything else.

An order with a planned window schedules a planned outage for each opening that
interrupts customers, so they get the planned-outage notice and reminder ahead
(`outage.notifications.planned`); aborting the order cancels them. A step that gives
supply back to part of an active outage restores the incident in part or in full, and
exactly the customers back are told (`outage.incidents.restoration`).
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage.grid.history import NetworkHistory
from outage.incidents.enums import IncidentKind
from outage.incidents.errors import IncidentConflict
from outage.incidents.lifecycle import ACTIVE
from outage.incidents.models import Incident
from outage.incidents.restoration import restore_by_switching
from outage.notifications import planned
from outage.notifications.enums import PlannedStatus
from outage.notifications.models import PlannedOutage
from outage.notifications.schemas import PlannedOutageIn
from outage.orders.enums import StepAction
from outage.orders.models import SwitchingOrder, SwitchingStep
from outage.orders.simulation import Simulation, is_loop
from outage.settings import Settings


def schedule_notices(
    session: Session,
    order: SwitchingOrder,
    simulation: Simulation,
    steps: dict[int, SwitchingStep],
    *,
    actor: str,
    operated: Topology,
    now: datetime,
    settings: Settings,
) -> None:
    """A planned outage for each opening that interrupts customers, when the order's
    window is still ahead (`steps`: the order's steps by position)."""
    start, end = order.planned_start, order.planned_end
    if start is None or end is None or start <= now:
        return
    for effect in simulation.steps:
        if effect.action is not StepAction.OPEN or effect.losing == 0:
            continue
        plan = PlannedOutageIn(
            device=effect.asset_ref,
            starts_at=start,
            ends_at=end,
            reason=f"{order.title} (switching order {order.id})"[:500],
        )
        scheduled = planned.schedule(
            session, plan, actor=actor, topology=operated, now=now, settings=settings
        )
        steps[effect.position].planned_outage_id = scheduled.id


def cancel_notices(session: Session, order_id: int) -> None:
    """The order is off: its planned outages still ahead are cancelled (customers already
    noticed are told)."""
    scheduled = session.scalars(
        select(PlannedOutage.id)
        .join(SwitchingStep, SwitchingStep.planned_outage_id == PlannedOutage.id)
        .where(SwitchingStep.order_id == order_id, PlannedOutage.status == PlannedStatus.SCHEDULED)
    ).all()
    for planned_id in scheduled:
        planned.cancel(session, planned_id)


def tell_restored(
    session: Session,
    asset_ref: str,
    *,
    operated: Topology,
    energized: Topology,
    at: datetime,
    actor: str,
    reason: str,
) -> None:
    """Closing `asset_ref` (`operated`, `energized`: the network as it was just before;
    the operation itself already recorded) gives supply back: each active outage some of
    whose customers it gave supply is restored in part or in full, and exactly its
    customers back are told (`outage.incidents.restoration`). Nested outages are left to
    the outage they are in; an outage that began after the step is not the step's."""
    if is_loop(energized, asset_ref):
        return
    after = energized.switched({asset_ref: False})
    gained = after.downstream(asset_ref).accounts
    if not gained:
        return
    outages = session.scalars(
        select(Incident.id)
        .where(
            Incident.kind == IncidentKind.OUTAGE,
            Incident.status.in_(ACTIVE),
            Incident.parent_id.is_(None),
            Incident.device_id.is_not(None),
            Incident.started_at <= at,
        )
        .order_by(Incident.id)
    ).all()
    if not outages:
        return
    history = NetworkHistory.load(session, operated.switched({asset_ref: False}))
    for incident_id in outages:
        try:
            with session.begin_nested():
                restore_by_switching(
                    session,
                    incident_id,
                    history=history,
                    energized=after,
                    at=at,
                    actor=actor,
                    reason=reason,
                    gained=gained,
                )
        except IncidentConflict:
            continue  # restored or cancelled meanwhile (a meter, a crew): nothing left to do
