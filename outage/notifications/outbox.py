"""Writing the outbox: one event row per thing customers must be told, in the caller's
transaction, so a change and the notifications it implies commit (or vanish) together.

An event is small whatever the outage's size: the delivery workers fan it out to one
message per customer afterwards (`fanout`), so the engine's transaction stays short.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.grid.models import Device
from outage.incidents.enums import IncidentKind
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.models import Incident
from outage.notifications.enums import EventKind
from outage.notifications.models import NotificationEvent, PlannedOutage


def incident_event(
    session: Session, incident: Incident, kind: EventKind, *, below: str | None = None
) -> None:
    """Customers of the incident's device (or premise) are to be told `kind`.

    `below` (an asset_ref) narrows it to the customers downstream of that device: a
    partial restoration. A partial restoration that names no device tells nobody, since
    we do not know who has power again. A hazard is told once, as a safety message.
    A restoration also queues the "still out?" follow-up.
    """
    hazard = incident.kind is IncidentKind.HAZARD
    if hazard and kind is not EventKind.OUTAGE_DETECTED:
        return
    partial = incident.status is IncidentStatus.PARTIALLY_RESTORED
    if kind is EventKind.RESTORED and partial and below is None:
        return
    device_id, premise_id = incident.device_id, incident.premise_id
    if below is not None:
        device_id = session.scalar(select(Device.id).where(Device.asset_ref == below))
        premise_id = None
    details: dict[str, Any] = {"etr": incident.etr.isoformat()} if incident.etr else {}
    kinds = [kind, EventKind.FOLLOW_UP] if kind is EventKind.RESTORED else [kind]
    for each in kinds:
        session.add(
            NotificationEvent(
                kind=each,
                incident_id=incident.id,
                device_id=device_id,
                premise_id=premise_id,
                safety=hazard,
                details=details,
            )
        )


def planned_event(session: Session, outage: PlannedOutage, kind: EventKind) -> None:
    """Customers downstream of the planned outage's device are to be told `kind`."""
    session.add(
        NotificationEvent(
            kind=kind,
            planned_outage_id=outage.id,
            device_id=outage.device_id,
            safety=False,
            details={
                "starts_at": outage.starts_at.isoformat(),
                "ends_at": outage.ends_at.isoformat(),
                "revision": outage.revision,
            },
        )
    )
