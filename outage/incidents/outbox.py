"""What customers are told of an incident: the outbox events its changes imply, written
in the caller's transaction with the change itself."""

from collections.abc import Mapping, Sequence
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
from outage.storms.enums import EtrScope


def incident_event(
    session: Session,
    incident: Incident,
    kind: EventKind,
    *,
    below: str | None = None,
    accounts: list[str] | None = None,
    switching: bool = False,
    at: datetime | None = None,
    areas: Mapping[int, str | None] | None = None,
    withdrawn: datetime | None = None,
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
    (the feeder's name, else the device's: never a customer's address); `areas`, read for
    many incidents at once (`areas_of`), saves reading it again. `withdrawn`: the
    estimated time an ETR change takes back (a storm's region now assessed).
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
    details = _facts(session, incident, areas)
    if switching:
        details["switching"] = True
    restored_at = at or incident.restored_at
    if kind is EventKind.RESTORED and restored_at is not None:
        details["restored_at"] = restored_at.isoformat()
    if withdrawn is not None:
        details["withdrawn"] = withdrawn.isoformat()
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


def areas_of(session: Session, incidents: Sequence[Incident]) -> dict[int, str | None]:
    """Incident -> the area its messages name (its feeder's name, else its device's), for
    many incidents in at most two queries."""
    feeder_ids = {i.feeder_id for i in incidents if i.feeder_id is not None}
    feeders = {}
    if feeder_ids:
        rows = session.execute(select(Feeder.id, Feeder.name).where(Feeder.id.in_(feeder_ids)))
        feeders = {feeder_id: name for feeder_id, name in rows}
    areas = {i.id: feeders.get(i.feeder_id) if i.feeder_id else None for i in incidents}
    unnamed = {i.device_id for i in incidents if areas[i.id] is None and i.device_id is not None}
    if unnamed:
        rows = session.execute(select(Device.id, Device.asset_ref).where(Device.id.in_(unnamed)))
        devices = {device_id: asset_ref for device_id, asset_ref in rows}
        for incident in incidents:
            if areas[incident.id] is None and incident.device_id is not None:
                areas[incident.id] = devices.get(incident.device_id)
    return areas


def _facts(
    session: Session, incident: Incident, areas: Mapping[int, str | None] | None
) -> dict[str, Any]:
    """What every message of the incident may say: its ETR, cause and area."""
    details: dict[str, Any] = {}
    if incident.etr is not None:
        details["etr"] = incident.etr.isoformat()
    if incident.etr_earliest is not None and incident.etr_latest is not None:
        details["etr_earliest"] = incident.etr_earliest.isoformat()
        details["etr_latest"] = incident.etr_latest.isoformat()
    if incident.etr is not None and incident.etr_scope is not EtrScope.OUTAGE:
        details["etr_scope"] = incident.etr_scope.value
    if incident.cause is not None:
        details["cause"] = incident.cause
    area = areas[incident.id] if areas is not None else areas_of(session, [incident])[incident.id]
    if area is not None:
        details["area"] = area
    return details
