"""The outage as it stands, for the supervisor's live panel: customers out now and over
the last hours, active incidents by status, and restoration times missed.

Outages only: a hazard need not put anyone out, and a cancelled incident was no outage.
A nested incident's customers are below its parent's device, so they count under the
parent while the parent is out and on their own once it is not.

The counts over time come from each incident's audit trail: out from its start, fewer
after each partial restoration (a crew's count, or the customers switching gave back),
none once restored, and all but those switched back again after a setback (a
restoration that did not hold). The engine may later correct how many customers an
incident put out; the trail is read with today's figure, as the indices read it.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, cast, exists, func, or_, select
from sqlalchemy.dialects.postgresql import TIMESTAMP
from sqlalchemy.orm import Session, aliased

from outage.incidents.enums import AuditAction, IncidentKind
from outage.incidents.lifecycle import ACTIVE, IncidentStatus
from outage.incidents.models import Incident, IncidentEvent
from outage.incidents.restoration import SWITCHING


@dataclass(frozen=True)
class CustomersOut:
    at: datetime
    customers: int


@dataclass(frozen=True)
class StatusCount:
    status: IncidentStatus
    incidents: int


@dataclass(frozen=True)
class LapsedEtrs:
    incidents: int
    """Outages whose estimated restoration time passed while customers were still out."""
    still_out: int
    """Of those, the ones whose customers are still out."""


def customers_out(session: Session) -> int:
    """Customers out now, on every active outage."""
    parent = aliased(Incident)
    still_out = Incident.customers_affected - Incident.customers_restored
    counted = session.scalar(
        select(func.coalesce(func.sum(still_out), 0))
        .select_from(Incident)
        .outerjoin(parent, parent.id == Incident.parent_id)
        .where(
            Incident.kind == IncidentKind.OUTAGE,
            Incident.status.in_(ACTIVE),
            or_(parent.id.is_(None), parent.status.not_in(ACTIVE)),
        )
    )
    return int(counted or 0)


def incidents_by_status(session: Session) -> list[StatusCount]:
    """How many incidents (outages and hazards) are in each active status, every active
    status listed, in the lifecycle's order."""
    found = dict(
        session.execute(
            select(Incident.status, func.count())
            .where(Incident.status.in_(ACTIVE))
            .group_by(Incident.status)
        )
        .tuples()
        .all()
    )
    return [StatusCount(s, found.get(s, 0)) for s in IncidentStatus if s in ACTIVE]


def lapsed_etrs(session: Session, *, since: datetime, now: datetime) -> LapsedEtrs:
    """Outages whose estimated restoration time passed since `since` with customers still
    out: the one they have now passed before they were restored (or before now), or an
    earlier one that had passed when it was replaced. An estimate's time passes at the
    latest of its range, a crew's or dispatcher's at the time itself."""
    told_deadline = func.coalesce(
        IncidentEvent.details["previous_latest"].astext, IncidentEvent.details["previous"].astext
    )
    replaced_late = exists().where(
        IncidentEvent.incident_id == Incident.id,
        IncidentEvent.action == AuditAction.ETR_SET,
        IncidentEvent.at >= since,
        cast(told_deadline, TIMESTAMP(timezone=True)) < IncidentEvent.at,
    )
    deadline = func.coalesce(Incident.etr_latest, Incident.etr)
    current_passed = and_(deadline >= since, deadline < func.coalesce(Incident.restored_at, now))
    lapsed = select(Incident.status).where(
        Incident.kind == IncidentKind.OUTAGE,
        Incident.status != IncidentStatus.CANCELLED,
        or_(current_passed, replaced_late),
    )
    statuses = list(session.scalars(lapsed))
    return LapsedEtrs(len(statuses), sum(status in ACTIVE for status in statuses))


@dataclass(frozen=True)
class _Outage:
    """When an incident's count of customers out changed, and to what."""

    parent_id: int | None
    changes: tuple[tuple[datetime, int], ...]

    def out_at(self, moment: datetime) -> int:
        count = 0
        for at, customers in self.changes:
            if at > moment:
                break
            count = customers
        return count


def _changes(
    incident: Incident, trail: Iterable[IncidentEvent]
) -> tuple[tuple[datetime, int], ...]:
    """The incident's count of customers out after each step of its trail (see above)."""
    steps = sorted(trail, key=lambda e: (e.at, e.id))
    switched = [
        int(e.details.get("restored_customers") or 0)
        for e in steps
        if e.action is AuditAction.PARTIALLY_RESTORED and e.details.get("by") == SWITCHING
    ]
    total = incident.customers_affected + sum(switched)
    switched_back = crew_back = 0
    changes = [(incident.started_at, total)]
    for event in steps:
        if event.action is AuditAction.PARTIALLY_RESTORED:
            if event.details.get("by") == SWITCHING:
                switched_back += int(event.details.get("restored_customers") or 0)
            else:
                crew_back = int(event.details.get("customers_restored") or 0)
            at = datetime.fromisoformat(event.details["at"])
            changes.append((at, max(0, total - switched_back - crew_back)))
        elif event.action is AuditAction.RESTORED:
            changes.append((datetime.fromisoformat(event.details["at"]), 0))
        elif event.action is AuditAction.REOPENED or (
            event.action is AuditAction.ON_SITE
            and event.from_status is IncidentStatus.PARTIALLY_RESTORED
        ):
            crew_back = 0
            changes.append((event.at, total - switched_back))
    return tuple(sorted(changes, key=lambda change: change[0]))


_TRAIL = (
    AuditAction.PARTIALLY_RESTORED,
    AuditAction.RESTORED,
    AuditAction.REOPENED,
    AuditAction.ON_SITE,
)


def customers_out_series(
    session: Session, *, since: datetime, now: datetime, step: timedelta
) -> list[CustomersOut]:
    """Customers out at `since`, every `step` after it, and at `now`."""
    incidents = list(
        session.scalars(
            select(Incident).where(
                Incident.kind == IncidentKind.OUTAGE,
                Incident.status != IncidentStatus.CANCELLED,
                Incident.started_at <= now,
                or_(Incident.restored_at.is_(None), Incident.restored_at >= since),
            )
        )
    )
    trails: dict[int, list[IncidentEvent]] = {i.id: [] for i in incidents}
    for event in session.scalars(
        select(IncidentEvent).where(
            IncidentEvent.incident_id.in_(trails), IncidentEvent.action.in_(_TRAIL)
        )
    ):
        trails[event.incident_id].append(event)
    outages = {i.id: _Outage(i.parent_id, _changes(i, trails[i.id])) for i in incidents}
    return [CustomersOut(at, _total_at(outages, at)) for at in _moments(since, now, step)]


def _moments(since: datetime, now: datetime, step: timedelta) -> Sequence[datetime]:
    count = int((now - since) / step)
    return [since + step * i for i in range(count + 1) if since + step * i < now] + [now]


def _total_at(outages: dict[int, _Outage], moment: datetime) -> int:
    total = 0
    for outage in outages.values():
        parent = outages.get(outage.parent_id) if outage.parent_id is not None else None
        if parent is not None and parent.out_at(moment) > 0:
            continue
        total += outage.out_at(moment)
    return total
