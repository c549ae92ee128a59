"""What customers are told of an incident: the outbox events its changes imply, written
in the caller's transaction with the change itself."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.grid.models import Device, Feeder
from outage.incidents.enums import IncidentKind
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.models import Incident
from outage.outbox.enums import EventKind
from outage.outbox.writer import write_event


def incident_event(
    session: Session,
    incident: Incident,
    kind: EventKind,
    *,
    below: str | None = None,
    accounts: list[str] | None = None,
    switching: bool = False,
    at: datetime | None = None,
) -> None:
    """Customers of the incident's device (or premise) are to be told `kind`.

    `below` (an asset_ref) narrows it to the customers downstream of that device, and
    `accounts` to exactly those customers (the ones switching gave supply again): a
    partial restoration. A partial restoration that names neither tells nobody, since
    we do not know who has power again. A hazard is told once, as a safety message.
    A restoration's message asks whether the customer's power is back (the answer may
    file a report of a nested outage), so nobody gets a second message for it.
    `switching`: supply came back through switching while the repair goes on, which the
    message says, with the ETR.
    `at`: when a partial restoration gave those customers supply again (a whole one's is
    the incident's `restored_at`). Every event names the cause, when known, and the area
    (the feeder's name, else the device's: never a customer's address).
    """
    hazard = incident.kind is IncidentKind.HAZARD
    if hazard and kind is not EventKind.OUTAGE_DETECTED:
        return
    partial = incident.status is IncidentStatus.PARTIALLY_RESTORED
    if kind is EventKind.RESTORED and partial and below is None and accounts is None:
        return
    device_id, premise_id = incident.device_id, incident.premise_id
    if below is not None:
        device_id = session.scalar(select(Device.id).where(Device.asset_ref == below))
        premise_id = None
    details = _facts(session, incident)
    if switching:
        details["switching"] = True
    restored_at = at or incident.restored_at
    if kind is EventKind.RESTORED and restored_at is not None:
        details["restored_at"] = restored_at.isoformat()
    write_event(
        session,
        kind,
        incident_id=incident.id,
        device_id=device_id,
        premise_id=premise_id,
        accounts=accounts,
        safety=hazard,
        details=details,
    )


def _facts(session: Session, incident: Incident) -> dict[str, Any]:
    """What every message of the incident may say: its ETR, cause and area."""
    details: dict[str, Any] = {}
    if incident.etr is not None:
        details["etr"] = incident.etr.isoformat()
    if incident.cause is not None:
        details["cause"] = incident.cause
    area = None
    if incident.feeder_id is not None:
        area = session.scalar(select(Feeder.name).where(Feeder.id == incident.feeder_id))
    if area is None and incident.device_id is not None:
        area = session.scalar(select(Device.asset_ref).where(Device.id == incident.device_id))
    if area is not None:
        details["area"] = area
    return details
