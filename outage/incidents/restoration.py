"""Restoring an incident's customers because switching gave them supply again: the one
way, for a dispatcher who marks it (`restored_by_switching`) and for a switching order's
step that closes a device.

An incident's customers are those its device fed when the outage began. Switching since
(a tie closed, a section opened) changes what the device feeds now, so they are read from
the network as operated with every device switched since the start put back as it stood
then (`NetworkHistory`). Of those, the ones with supply in the live network now are back;
the ones already told so by an earlier restoration (their accounts are in the audit
trail) are not told twice. Exactly the accounts back are told, and named in the audit
row, so the reliability records know who came back when.
"""

from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage.grid.history import NetworkHistory
from outage.incidents.changes import _restore
from outage.incidents.enums import AuditAction
from outage.incidents.errors import IncidentConflict
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.models import IncidentEvent
from outage.incidents.outbox import incident_event
from outage.incidents.recorded import record_incident
from outage.incidents.steps import _checked_time, _label, _load, _move, _require_active
from outage.intake.closing import close_reports
from outage.outbox.enums import EventKind

SWITCHING = "switching"
"""The `by` of the audit rows of restorations by switching."""


@dataclass(frozen=True)
class Resupplied:
    back: tuple[str, ...]
    """Accounts with supply again, not yet told so."""
    still_out: int
    """Customers of the incident still without supply."""


def resupplied(
    session: Session,
    incident_id: int,
    asset_ref: str,
    started_at: datetime,
    *,
    history: NetworkHistory,
    energized: Topology,
) -> Resupplied:
    """Which of the customers the incident's device fed at its start have supply now. The
    audit trail is read only when someone has, so a storm's list of incidents asking costs
    no query each."""
    back, out = _supplied_now(asset_ref, history.at(started_at), energized)
    if back:
        back -= told_back(session, incident_id)
    return Resupplied(tuple(sorted(back)), out)


def _supplied_now(asset_ref: str, then: Topology, energized: Topology) -> tuple[set[str], int]:
    """The accounts the device fed in `then` that have supply now, and how many have not."""
    accounts_at = then.network.accounts_at
    back: set[str] = set()
    out = 0
    for node in then.downstream(asset_ref).nodes:
        here = accounts_at.get(node, ())
        if energized.is_energized(node):
            back.update(here)
        else:
            out += len(here)
    return back, out


def told_back(session: Session, incident_id: int) -> frozenset[str]:
    """Accounts earlier restorations by switching of this incident named."""
    rows = session.scalars(
        select(IncidentEvent.details).where(
            IncidentEvent.incident_id == incident_id,
            IncidentEvent.action == AuditAction.PARTIALLY_RESTORED,
            IncidentEvent.details["by"].astext == SWITCHING,
        )
    )
    return frozenset(account for details in rows for account in details.get("accounts", ()))


def restore_by_switching(
    session: Session,
    incident_id: int,
    *,
    history: NetworkHistory,
    energized: Topology,
    at: datetime | None,
    actor: str,
    reason: str | None,
    gained: Set[str] | None = None,
) -> tuple[str, ...]:
    """The incident's customers with supply in `energized` (the live network now) and not
    yet told are restored, and exactly they are told: partially restored, or restored
    when nobody is left out. Returns their accounts; none: nothing changed.

    `history`: the network as operated, now and in the past. `gained`: the accounts the
    switching at hand gave supply (an order's step); an incident none of whose customers
    are among them is left alone.
    """
    incident = _load(session, incident_id)
    _require_active(incident, "be restored")
    if incident.device_id is None:
        raise IncidentConflict(f"incident {incident.id} is not on a device: switching cannot tell")
    device = _label(session, incident)["device"]
    assert device is not None
    found = resupplied(
        session, incident.id, device, incident.started_at, history=history, energized=energized
    )
    if not found.back or (gained is not None and gained.isdisjoint(found.back)):
        return ()
    at = _checked_time(incident, at, "restoration time")
    details = {
        "by": SWITCHING,
        "restored_customers": len(found.back),
        "accounts": list(found.back),
    }
    if found.still_out == 0:
        _restore(session, incident, at, actor=actor, reason=reason, notify=False, details=details)
    else:
        _move(
            session,
            incident,
            IncidentStatus.PARTIALLY_RESTORED,
            AuditAction.PARTIALLY_RESTORED,
            actor=actor,
            reason=reason,
            details={
                "at": at.isoformat(),
                "customers_affected": [incident.customers_affected, found.still_out],
                **details,
            },
        )
        incident.customers_affected = found.still_out
        incident.customers_restored = min(incident.customers_restored, found.still_out)
        close_reports(session, incident.id, at, accounts=found.back)
        record_incident(session, incident.id)
    incident_event(
        session,
        incident,
        EventKind.RESTORED,
        accounts=list(found.back),
        switching=found.still_out > 0,
        at=at,
    )
    return found.back
