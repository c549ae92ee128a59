"""Dispatchers' pins: an active incident put with a crew, at a place in its route if given,
which the planner keeps (`outage.crews.plan_inputs`); and the errors of the dispatch plan
the routes answer (no such plan, incident or crew; a pin that cannot be). For the dispatch
routes, and the plan as read back (`outage.crews.plan_view`).

Every function takes the session and plain values and never commits.
"""

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from outage.crews.models import Crew, DispatchPin
from outage.crews.schemas import PinIn, PinOut
from outage.errors import Conflict, NotFound
from outage.incidents.lifecycle import ACTIVE
from outage.incidents.models import Incident


class PlanConflict(Conflict, ValueError):
    """A pin that cannot be: the incident is not active."""


class PlanNotFound(NotFound, LookupError):
    """No plan yet, or no such incident or crew."""


def set_pin(session: Session, pin: PinIn, *, by: str) -> PinOut:
    """Pin an active incident to a crew (replacing its pin, if any)."""
    status = session.scalar(select(Incident.status).where(Incident.id == pin.incident_id))
    if status is None:
        raise PlanNotFound(f"no incident {pin.incident_id}")
    if status not in ACTIVE:
        raise PlanConflict(f"incident {pin.incident_id} is {status.value}: nothing to dispatch")
    if session.get(Crew, pin.crew_id) is None:
        raise PlanNotFound(f"no crew {pin.crew_id}")
    session.execute(delete(DispatchPin).where(DispatchPin.incident_id == pin.incident_id))
    row = DispatchPin(
        incident_id=pin.incident_id, crew_id=pin.crew_id, position=pin.order, pinned_by=by
    )
    session.add(row)
    session.flush()
    session.refresh(row)
    return _pin_out(row)


def remove_pin(session: Session, incident_id: int) -> None:
    removed = session.execute(delete(DispatchPin).where(DispatchPin.incident_id == incident_id))
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise PlanNotFound(f"incident {incident_id} has no pin")


def _pin_out(pin: DispatchPin) -> PinOut:
    return PinOut(
        incident_id=pin.incident_id,
        crew_id=pin.crew_id,
        order=pin.position,
        pinned_by=pin.pinned_by,
        pinned_at=pin.pinned_at,
    )


def list_pins(session: Session) -> list[PinOut]:
    return [
        _pin_out(p) for p in session.scalars(select(DispatchPin).order_by(DispatchPin.incident_id))
    ]
