"""After the repair, the order that puts back what restoration by switching moved.

A restoration order leaves devices out of their normal state: isolating switches open,
ties closed. Once the incident is repaired and the order is over (completed or aborted),
a return-to-normal order is drafted for the devices the order moved (as the switching log
says: a step confirmed by SCADA after it failed moved its device too) that are still out
of their normal state (`outage.orders.normal`), linked to the incident. It is only a
draft: a person checks, approves and runs it.

Repaired means closed, or restored by anything but switching: an outage that switching
restored in full is not repaired yet, and returning to normal then would feed the fault
again. Each restoration order is settled once (`normal_considered_at`): when its draft is
made or nothing needs returning. A draft the check refuses, or that fails for any other
reason, is tried again on the next run, on the network as it then is; the reason is kept
with the row (`normal_refusal`) and logged when it changes, not every run. One row that
fails never holds back the others.
"""

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage.errors import DomainError
from outage.grid.switching import abnormal_devices
from outage.incidents.enums import AuditAction
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.models import Incident, IncidentEvent
from outage.incidents.restoration import SWITCHING
from outage.orders.enums import OrderState
from outage.orders.execution import moved_by
from outage.orders.models import SwitchingOrder
from outage.orders.normal import return_to_normal
from outage.restoration.models import RestorationOrder

log = logging.getLogger(__name__)

ACTOR = "restoration"
"""Who drafts the return-to-normal orders."""

OVER = (OrderState.COMPLETED, OrderState.ABORTED)
REPAIRED = (IncidentStatus.RESTORED, IncidentStatus.CLOSED)


def repaired(session: Session, incident: Incident) -> bool:
    """Closed, or restored last by something other than switching."""
    if incident.status is IncidentStatus.CLOSED:
        return True
    by = session.scalar(
        select(IncidentEvent.details["by"].astext)
        .where(
            IncidentEvent.incident_id == incident.id,
            IncidentEvent.action == AuditAction.RESTORED,
        )
        .order_by(IncidentEvent.at.desc(), IncidentEvent.id.desc())
        .limit(1)
    )
    return incident.status is IncidentStatus.RESTORED and by != SWITCHING


def moved_devices(session: Session, order_id: int) -> list[str]:
    """The devices the order moved that are still out of their normal state by an
    operator's hand (a trip since is another outage's)."""
    operated = moved_by(session, order_id)
    return [
        d.asset_ref for d in abnormal_devices(session) if d.asset_ref in operated and not d.tripped
    ]


def propose_return_to_normal(session: Session, *, topology: Topology, now: datetime) -> list[int]:
    """Draft the return to normal of every finished restoration order whose incident is
    repaired; the ids of the orders drafted. Rows another engine is at are skipped."""
    rows = session.execute(
        select(RestorationOrder, Incident)
        .join(SwitchingOrder, SwitchingOrder.id == RestorationOrder.order_id)
        .join(Incident, Incident.id == RestorationOrder.incident_id)
        .where(
            RestorationOrder.normal_considered_at.is_(None),
            SwitchingOrder.state.in_(OVER),
            Incident.status.in_(REPAIRED),
        )
        .order_by(RestorationOrder.id)
        .with_for_update(of=RestorationOrder, skip_locked=True)
    ).all()
    drafted = []
    for row, incident in rows:
        try:
            with session.begin_nested():
                order_id = _consider(session, row, incident, topology=topology, now=now)
        except Exception as error:  # one row that fails must not hold back the others
            _refused(row, incident.id, error)
            continue
        if order_id is not None:
            drafted.append(order_id)
    session.flush()
    return drafted


def _consider(
    session: Session,
    row: RestorationOrder,
    incident: Incident,
    *,
    topology: Topology,
    now: datetime,
) -> int | None:
    """Draft the return to normal of the row's order if its incident is repaired and it
    moved devices still out of normal, and settle the row; the order drafted."""
    if not repaired(session, incident):
        return None
    devices = moved_devices(session, row.order_id)
    row.normal_considered_at = now
    if not devices:
        return None
    order = return_to_normal(
        session,
        devices,
        allow_loops=False,
        title=f"Return to normal after the repair of incident {incident.id}",
        actor=ACTOR,
        topology=topology,
        now=now,
        incident_id=incident.id,
    )
    row.normal_order_id = order.id
    return order.id


def _refused(row: RestorationOrder, incident_id: int, error: Exception) -> None:
    """Keep why the draft failed, and log it when the reason is new (a refusal, or an
    error with its traceback), so one refused run after run is logged once."""
    refusal = isinstance(error, DomainError)
    reason = str(error) if refusal else repr(error)
    if reason == row.normal_refusal:
        return
    row.normal_refusal = reason
    log.warning(
        "no return to normal drafted after incident %d yet, tried again: %s",
        incident_id,
        reason,
        exc_info=not refusal,
    )
