"""A dispatcher's edits of incidents: moving one to another device, splitting evidence
off to a new incident, taking another in, creating one at a device. (Marking the
customers switching gave supply again is `outage.incidents.restoration`.)

An incident a dispatcher moved, split, merged or created carries `placed_by`: the place
is a person's, so the engine no longer moves it, merges it away or cancels it (see
`outage.prediction.reconcile`); new evidence still attaches to it. Customers are counted
on the network as operated, as the engine counts them. Nothing here commits.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage import clock
from outage.incidents.changes import _confirm, _open, merge_incidents
from outage.incidents.enums import AuditAction, IncidentKind
from outage.incidents.errors import IncidentConflict, InvalidIncidentValue
from outage.incidents.evidence import EvidenceRef, _remove_evidence
from outage.incidents.lifecycle import ACTIVE
from outage.incidents.models import Incident, IncidentEvidence
from outage.incidents.outbox import incident_event
from outage.incidents.recorded import record_incident
from outage.incidents.steps import (
    _audit,
    _label,
    _Place,
    _place,
    _require_active,
    _touch,
)
from outage.outbox.enums import EventKind

_COLUMNS = {
    "report": IncidentEvidence.report_id,
    "meter_event": IncidentEvidence.meter_event_id,
    "scada_event": IncidentEvidence.scada_event_id,
}


def _elsewhere(session: Session, incident: Incident, asset_ref: str) -> _Place:
    place = _place(session, asset_ref, None, None)
    if place.device_id == incident.device_id:
        raise IncidentConflict(f"incident {incident.id} is on {asset_ref} already")
    return place


def move(
    session: Session,
    incident: Incident,
    asset_ref: str,
    *,
    operated: Topology,
    actor: str,
    reason: str | None,
) -> None:
    """Put the incident on another device; its evidence stays, its customers are the
    device's, and they are told of the outage."""
    _require_active(incident, "move")
    place = _elsewhere(session, incident, asset_ref)
    customers = len(operated.downstream(asset_ref).accounts)
    _audit(
        session,
        incident,
        AuditAction.MOVED,
        actor=actor,
        reason=reason,
        details={
            "from": _label(session, incident),
            "to": place.label,
            "customers_affected": [incident.customers_affected, customers],
        },
    )
    incident.device_id, incident.premise_id = place.device_id, None
    incident.feeder_id = place.feeder_id
    incident.customers_affected = customers
    incident.customers_restored = min(incident.customers_restored, customers)
    incident.placed_by = actor
    incident_event(session, incident, EventKind.OUTAGE_DETECTED)
    record_incident(session, incident.id, topology=operated)  # who was back is the device's


def split(
    session: Session,
    incident: Incident,
    asset_ref: str,
    evidence: Sequence[EvidenceRef],
    *,
    operated: Topology,
    actor: str,
    reason: str | None,
) -> int:
    """Move some of the incident's evidence to a new confirmed incident at another device,
    and return its id. Both incidents are the dispatcher's from then on."""
    _require_active(incident, "be split")
    if incident.kind is not IncidentKind.OUTAGE:
        raise IncidentConflict(f"incident {incident.id} is a hazard: only outages are split")
    place = _elsewhere(session, incident, asset_ref)
    foreign = [ref for ref in evidence if not _holds(session, incident.id, ref)]
    if foreign:
        names = ", ".join(f"{ref.source.value} {ref.id}" for ref in foreign)
        raise InvalidIncidentValue(f"not evidence of incident {incident.id}: {names}")
    removed = _remove_evidence(session, incident.id, evidence)
    new = _open(
        session,
        kind=IncidentKind.OUTAGE,
        place=place,
        confidence=1.0,
        customers_affected=len(operated.downstream(asset_ref).accounts),
        started_at=incident.started_at,
        evidence=evidence,
        hazard=None,
        parent_id=None,
        actor=actor,
        reason=reason or f"split from incident {incident.id}",
    )
    _confirm(session, new, actor=actor, reason=reason)
    new.placed_by = incident.placed_by = actor
    _touch(incident)
    _audit(
        session,
        incident,
        AuditAction.UPDATED,
        actor=actor,
        reason=reason,
        details={"evidence_removed": removed, "split_into": new.id},
    )
    return new.id


def _holds(session: Session, incident_id: int, ref: EvidenceRef) -> bool:
    column = _COLUMNS[ref.source.value]
    return bool(
        session.scalar(
            select(exists().where(IncidentEvidence.incident_id == incident_id, column == ref.id))
        )
    )


def merge(
    session: Session,
    incident: Incident,
    merged_id: int,
    *,
    operated: Topology,
    actor: str,
    reason: str | None,
) -> None:
    """Take another incident in, as the engine merges them, keeping this one's place."""
    merge_incidents(
        session, incident.id, merged_id, actor=actor, reason=reason or "the same outage"
    )
    if incident.device_id is not None:
        device = _label(session, incident)["device"]
        assert device is not None
        incident.customers_affected = len(operated.downstream(device).accounts)
        incident.customers_restored = min(incident.customers_restored, incident.customers_affected)
    incident.placed_by = actor


def create(
    session: Session,
    asset_ref: str,
    *,
    operated: Topology,
    cause: str | None,
    started_at: datetime | None,
    actor: str,
    reason: str | None,
) -> int:
    """A confirmed outage at a device that nobody reported (a crew found the damage):
    its customers are told as the engine's are. Returns its id."""
    place = _place(session, asset_ref, None, None)
    already = session.scalar(
        select(Incident.id).where(
            Incident.device_id == place.device_id, Incident.status.in_(sorted(ACTIVE))
        )
    )
    if already is not None:
        raise IncidentConflict(f"incident {already} is already active on {asset_ref}")
    start = started_at or clock.now()
    if start > clock.now():
        raise InvalidIncidentValue(f"started_at {start.isoformat()} is in the future")
    incident = _open(
        session,
        kind=IncidentKind.OUTAGE,
        place=place,
        confidence=1.0,
        customers_affected=len(operated.downstream(asset_ref).accounts),
        started_at=start,
        evidence=(),
        hazard=None,
        parent_id=None,
        actor=actor,
        reason=reason or "created at the device by a dispatcher",
    )
    _confirm(session, incident, actor=actor, reason=reason)
    incident.cause = cause
    incident.placed_by = actor
    return incident.id
