"""Who of an incident's customers switching gave supply again.

An incident's customers are those its device fed when the outage began. Switching since
(a tie closed, a section opened) changes what the device feeds now, so they are read from
the network as operated with every device switched since the start put back as it stood
then. Of those, the ones with supply in the live network now are back; the ones already
told so by an earlier step (their accounts are in the audit trail) are not told twice.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage.grid.history import NetworkHistory
from outage.incidents.enums import AuditAction
from outage.incidents.models import IncidentEvent

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
    operated: Topology,
    energized: Topology,
) -> Resupplied:
    """Which of the customers the incident's device fed at its start have supply now."""
    then = NetworkHistory.load(session, operated).at(started_at).downstream(asset_ref)
    accounts_at = operated.network.accounts_at
    back: set[str] = set()
    out = 0
    for node in then.nodes:
        here = accounts_at.get(node, ())
        if energized.is_energized(node):
            back.update(here)
        else:
            out += len(here)
    return Resupplied(tuple(sorted(back - told_back(session, incident_id))), out)


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
