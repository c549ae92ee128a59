"""Repair durations of the incidents already restored, for `dispatch.etr.RepairHistory`.

A repair lasts from the crew's first report on site to the restoration. Momentary
interruptions and incidents no crew reached are left out: they say nothing of repairs.
"""

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.etr import SERVICE, RepairHistory, RepairSample
from outage.grid.models import Device
from outage.incidents.enums import AuditAction
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.models import Incident, IncidentEvent

LOOKBACK = timedelta(days=365)
"""Repairs older than this are of another network, another workforce."""
MAX_SAMPLES = 20_000
"""The newest ones; percentiles need no more."""


def repair_samples(session: Session, *, now: datetime) -> list[RepairSample]:
    on_site = (
        select(
            IncidentEvent.incident_id.label("incident_id"),
            func.min(IncidentEvent.at).label("at"),
        )
        .where(IncidentEvent.action == AuditAction.ON_SITE)
        .group_by(IncidentEvent.incident_id)
        .subquery()
    )
    rows = session.execute(
        select(Device.kind, Incident.premise_id, Incident.cause, Incident.restored_at, on_site.c.at)
        .join(on_site, on_site.c.incident_id == Incident.id)
        .outerjoin(Device, Device.id == Incident.device_id)
        .where(
            Incident.status.in_([IncidentStatus.RESTORED, IncidentStatus.CLOSED]),
            Incident.momentary.is_(False),
            Incident.restored_at >= now - LOOKBACK,
            Incident.restored_at > on_site.c.at,
        )
        .order_by(Incident.restored_at.desc())
        .limit(MAX_SAMPLES)
    )
    samples = []
    for kind, premise_id, cause, restored_at, arrived_at in rows:
        if kind is None and premise_id is None:
            continue
        samples.append(
            RepairSample(
                device_kind=str(kind) if kind is not None else SERVICE,
                cause=cause,
                duration_s=(restored_at - arrived_at).total_seconds(),
            )
        )
    return samples


def repair_history(session: Session, *, now: datetime) -> RepairHistory:
    """Percentiles of the restored incidents' repairs, defaults where there are too few."""
    return RepairHistory(repair_samples(session, now=now))
