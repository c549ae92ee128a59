"""Planned outages: scheduling maintenance on a device, and telling its customers ahead.

A notice goes out `notify_planned_days` before the start, a reminder
`notify_reminder_hours` before it; changing the window tells those already noticed,
cancelling tells them it is off. The periodic job (`queue_due`) queues notices and
reminders as their time comes and marks finished outages done.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from geoalchemy2 import functions as geo
from sqlalchemy import Row, Select, func, or_, select, update
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage.errors import Conflict, Invalid, NotFound
from outage.grid.models import Device
from outage.moments import PLANNED_HORIZON, PLANNED_MAX_LENGTH
from outage.notifications.enums import PlannedStatus
from outage.notifications.models import PlannedOutage
from outage.notifications.schemas import PlannedOutageIn, PlannedOutageOut, PlannedOutagePatch
from outage.outbox.enums import EventKind
from outage.outbox.writer import write_event
from outage.settings import Settings


class PlannedNotFound(NotFound, LookupError):
    """No planned outage with that id."""


class PlannedConflict(Conflict, ValueError):
    """The planned outage is cancelled or done: it cannot change."""


class InvalidPlan(Invalid, ValueError):
    """A window in the past, or a device we do not have."""


@dataclass(frozen=True)
class PlannedOutageView:
    """A planned outage as the maps and the reliability report need it."""

    id: int
    device: str
    device_kind: str
    starts_at: datetime
    ends_at: datetime
    status: PlannedStatus
    customers: int
    lon: float
    lat: float
    """A point on the device (the middle of a line)."""


def _query() -> Select[Any]:
    point = geo.ST_PointOnSurface(Device.geom)
    return (
        select(
            PlannedOutage,
            Device.asset_ref,
            Device.kind,
            geo.ST_X(point).label("lon"),
            geo.ST_Y(point).label("lat"),
        )
        .join(Device, Device.id == PlannedOutage.device_id)
        .order_by(PlannedOutage.starts_at, PlannedOutage.id)
    )


def _out(row: Row[Any]) -> PlannedOutageOut:
    outage, asset_ref, kind, lon, lat = row
    return PlannedOutageOut(
        id=outage.id,
        device=asset_ref,
        device_kind=kind.value,
        starts_at=outage.starts_at,
        ends_at=outage.ends_at,
        reason=outage.reason,
        status=outage.status,
        revision=outage.revision,
        customers=outage.customers,
        notice_queued_at=outage.notice_queued_at,
        reminder_queued_at=outage.reminder_queued_at,
        lon=lon,
        lat=lat,
    )


def _view(out: PlannedOutageOut) -> PlannedOutageView:
    return PlannedOutageView(
        id=out.id,
        device=out.device,
        device_kind=out.device_kind,
        starts_at=out.starts_at,
        ends_at=out.ends_at,
        status=out.status,
        customers=out.customers,
        lon=out.lon,
        lat=out.lat,
    )


def list_planned(
    session: Session, *, status: PlannedStatus | None = None, limit: int = 100, offset: int = 0
) -> list[PlannedOutageOut]:
    query = _query()
    if status is not None:
        query = query.where(PlannedOutage.status == status)
    return [_out(row) for row in session.execute(query.limit(limit).offset(offset))]


def get_planned(session: Session, planned_id: int) -> PlannedOutageOut:
    row = session.execute(_query().where(PlannedOutage.id == planned_id)).first()
    if row is None:
        raise PlannedNotFound(f"no planned outage {planned_id}")
    return _out(row)


def active_or_upcoming(session: Session, now: datetime) -> list[PlannedOutageView]:
    """Scheduled outages not over yet (under way or ahead), for the maps."""
    query = _query().where(
        PlannedOutage.status == PlannedStatus.SCHEDULED, PlannedOutage.ends_at > now
    )
    return [_view(_out(row)) for row in session.execute(query)]


def between(session: Session, start: datetime, end: datetime) -> list[PlannedOutageView]:
    """Planned outages (not cancelled) whose window overlaps [start, end), for reliability
    reports, which count them apart from unplanned interruptions."""
    query = _query().where(
        PlannedOutage.status != PlannedStatus.CANCELLED,
        PlannedOutage.starts_at < end,
        PlannedOutage.ends_at > start,
    )
    return [_view(_out(row)) for row in session.execute(query)]


def _lock(session: Session, planned_id: int) -> PlannedOutage:
    outage = session.get(PlannedOutage, planned_id, with_for_update=True)
    if outage is None:
        raise PlannedNotFound(f"no planned outage {planned_id}")
    if outage.status is not PlannedStatus.SCHEDULED:
        raise PlannedConflict(f"planned outage {planned_id} is {outage.status.value}")
    return outage


def _event(session: Session, outage: PlannedOutage, kind: EventKind) -> None:
    """Customers downstream of the planned outage's device are to be told `kind`."""
    write_event(
        session,
        kind,
        planned_outage_id=outage.id,
        device_id=outage.device_id,
        details={
            "starts_at": outage.starts_at.isoformat(),
            "ends_at": outage.ends_at.isoformat(),
            "revision": outage.revision,
        },
    )


def _queue(session: Session, outage: PlannedOutage, now: datetime, settings: Settings) -> None:
    """Queue the notice, and the reminder, once their time has come."""
    reminder_from = outage.starts_at - settings.notify_reminder_hours
    notice_from = outage.starts_at - settings.notify_planned_days
    if outage.starts_at <= now:
        return
    if outage.notice_queued_at is None and now >= notice_from:
        _event(session, outage, EventKind.PLANNED_NOTICE)
        outage.notice_queued_at = now
        if now >= reminder_from:  # noticed within a day of the work: no separate reminder
            outage.reminder_queued_at = now
    elif outage.reminder_queued_at is None and now >= reminder_from:
        _event(session, outage, EventKind.PLANNED_REMINDER)
        outage.reminder_queued_at = now


def _check_window(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if ends_at <= starts_at:
        raise InvalidPlan("ends_at must be after starts_at")
    if starts_at <= now:
        raise InvalidPlan(f"starts_at {starts_at.isoformat()} is not in the future")
    if starts_at > now + PLANNED_HORIZON:
        raise InvalidPlan(
            f"starts_at {starts_at.isoformat()} is more than {PLANNED_HORIZON.days} days ahead"
        )
    if ends_at - starts_at > PLANNED_MAX_LENGTH:
        raise InvalidPlan(f"a planned outage lasts at most {PLANNED_MAX_LENGTH.days} days")


def schedule(
    session: Session,
    plan: PlannedOutageIn,
    *,
    actor: str,
    topology: Topology,
    now: datetime,
    settings: Settings,
) -> PlannedOutageOut:
    """Schedule maintenance; the notice is queued at once when the start is near."""
    _check_window(plan.starts_at, plan.ends_at, now)
    device_id = session.scalar(select(Device.id).where(Device.asset_ref == plan.device))
    if device_id is None or plan.device not in topology.network.links:
        raise InvalidPlan(f"no device with asset_ref {plan.device!r}")
    outage = PlannedOutage(
        device_id=device_id,
        starts_at=plan.starts_at,
        ends_at=plan.ends_at,
        reason=plan.reason,
        status=PlannedStatus.SCHEDULED,
        revision=1,
        customers=len(topology.downstream(plan.device).accounts),
        created_by=actor,
    )
    session.add(outage)
    session.flush()
    _queue(session, outage, now, settings)
    session.flush()
    return get_planned(session, outage.id)


def change(
    session: Session,
    planned_id: int,
    patch: PlannedOutagePatch,
    *,
    now: datetime,
    settings: Settings,
) -> PlannedOutageOut:
    """Move the window or reword the reason; customers already noticed hear of a move."""
    outage = _lock(session, planned_id)
    starts_at = patch.starts_at or outage.starts_at
    ends_at = patch.ends_at or outage.ends_at
    moved = (starts_at, ends_at) != (outage.starts_at, outage.ends_at)
    if moved:
        _check_window(starts_at, ends_at, now)
        outage.starts_at, outage.ends_at = starts_at, ends_at
        outage.revision += 1
        outage.reminder_queued_at = None
        if outage.notice_queued_at is not None:
            _event(session, outage, EventKind.PLANNED_CHANGED)
    if patch.reason is not None:
        outage.reason = patch.reason
    _queue(session, outage, now, settings)
    session.flush()
    return get_planned(session, outage.id)


def cancel(session: Session, planned_id: int) -> PlannedOutageOut:
    """Call the work off; customers already noticed are told."""
    outage = _lock(session, planned_id)
    outage.status = PlannedStatus.CANCELLED
    if outage.notice_queued_at is not None:
        _event(session, outage, EventKind.PLANNED_CANCELLED)
    session.flush()
    return get_planned(session, outage.id)


def queue_due(session: Session, now: datetime, settings: Settings) -> int:
    """The periodic job: queue notices and reminders now due; finished outages are done."""
    horizon = now + settings.notify_planned_days
    due = session.scalars(
        select(PlannedOutage)
        .where(
            PlannedOutage.status == PlannedStatus.SCHEDULED,
            PlannedOutage.starts_at > now,
            PlannedOutage.starts_at <= horizon,
            or_(
                PlannedOutage.notice_queued_at.is_(None),
                PlannedOutage.reminder_queued_at.is_(None),
            ),
        )
        .with_for_update(skip_locked=True)
    ).all()
    for outage in due:
        _queue(session, outage, now, settings)
    finished = session.scalars(
        update(PlannedOutage)
        .where(PlannedOutage.status == PlannedStatus.SCHEDULED, PlannedOutage.ends_at <= now)
        .values(status=PlannedStatus.DONE, updated_at=func.now())
        .returning(PlannedOutage.id)
    ).all()
    session.flush()
    return len(due) + len(finished)
