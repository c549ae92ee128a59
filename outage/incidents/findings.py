"""A crew's finding: where the fault is, as the crew sent to the incident reports it (a
`confirm` naming a device while the crew is at work, `lifecycle.CREW_AT_WORK`).

A crew only narrows the place down: the device must be the incident's own or one below it
on the network as operated, so a finding cannot take an outage to a part of the network
the crew was not sent to (a dispatcher's `move` can). The restoration planner then takes
the incident's device as where the fault is (`outage.restoration.inputs.locate`).
Nothing here commits.
"""

from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage.incidents import edits
from outage.incidents.enums import AuditAction
from outage.incidents.errors import (
    IncidentConflict,
    IncidentNotFound,
    OutsideArea,
    UnknownFoundDevice,
)
from outage.incidents.models import Incident
from outage.incidents.schemas import DeviceRef
from outage.incidents.steps import _audit, _label

FOUND_HERE = "the crew found the fault here"
"""The audit trail's reason when the crew gave no note."""


def _worked_on(operated: Topology, device: str) -> Topology:
    """The network with the incident's device closed: a crew may have opened it to work
    below it, and what is below it is still its area."""
    if operated.network.links[device].is_open:
        return operated.switched({device: False})
    return operated


def area(operated: Topology, device: str, *, limit: int) -> list[DeviceRef]:
    """The device and the devices below it, nearest first (fewest devices between), at
    most `limit`: where a crew sent to `device` may find the fault."""
    view = _worked_on(operated, device)
    links = view.network.links
    below = [ref for ref in view.downstream(device).devices if not links[ref].is_open]
    below.sort(key=lambda ref: len(view.upstream(ref).devices))
    return [DeviceRef(asset_ref=ref, kind=links[ref].kind) for ref in [device, *below][:limit]]


def crew_job_area(
    session: Session, incident_id: int, *, crew_id: int, operated: Topology, limit: int
) -> list[DeviceRef]:
    """The area of one of the crew's jobs (`area`); none for a job not on a device.
    Another crew's incident is not found, as one that does not exist."""
    incident = session.get(Incident, incident_id)
    if incident is None or incident.crew_id != crew_id:
        raise IncidentNotFound(f"no incident {incident_id} of crew {crew_id}")
    device = _label(session, incident).get("device")
    if device is None or device not in operated.network.links:
        return []
    return area(operated, device, limit=limit)


def found_at(
    session: Session,
    incident: Incident,
    asset_ref: str,
    *,
    operated: Topology,
    actor: str,
    reason: str | None,
) -> None:
    """The crew found the fault at `asset_ref`: the incident is placed there (a person's
    place, which the engine keeps) and confirmed, and its status stays. The device is the
    incident's, one below it, or one on its way to the source (the prediction named a
    device inside the faulted area); a fault elsewhere is another outage."""
    if incident.device_id is None:
        raise IncidentConflict(
            f"incident {incident.id} is not on a device: the dispatcher places it"
        )
    if asset_ref not in operated.network.links:
        raise UnknownFoundDevice(f"no device with asset_ref {asset_ref!r}")
    device = _label(session, incident)["device"]
    assert device is not None  # the incident is on a device
    if device not in operated.network.links:
        raise IncidentConflict(
            f"{device}, the device of incident {incident.id}, is no longer on the network: "
            "the dispatcher places it"
        )
    view = _worked_on(operated, device)
    if asset_ref == device:
        _audit(
            session,
            incident,
            AuditAction.CONFIRMED,
            actor=actor,
            reason=reason or FOUND_HERE,
            details={"found_at": asset_ref},
        )
        incident.placed_by = actor
    elif device in view.upstream(asset_ref).devices or asset_ref in view.upstream(device).devices:
        edits.move(
            session, incident, asset_ref, operated=view, actor=actor, reason=reason or FOUND_HERE
        )
    else:
        raise OutsideArea(
            f"{asset_ref} is neither below {device}, the device of incident "
            f"{incident.id}, nor on its way to the source: a fault elsewhere is the "
            "dispatcher's to place"
        )
    incident.confidence = 1.0
