"""The incident lifecycle as data: statuses, the moves allowed between them, and the rules.

Pure: no database, no HTTP. The service asks `check_transition` before it changes a status.

The main path is predicted -> confirmed -> dispatched -> en_route -> on_site ->
partially_restored -> restored -> closed; `TRANSITIONS` below is the whole of it.

Refinements of the plain chain, each for a thing that happens in the field:

- A crew may be sent without the dispatcher confirming first (predicted -> dispatched), and
  may report on site without having said it was en route (dispatched -> on_site).
- Assigning another crew is dispatched -> dispatched, or en_route -> dispatched; taking
  the crew away (unassign) goes back to confirmed.
- Power may come back before anyone acts (a recloser's second shot, a customer's breaker):
  every active status may go to restored.
- Cancelled means "there was no such outage" (a false prediction, merged into another
  incident, a crew finding nothing wrong). Once some customers have been restored the
  outage was real, so partially_restored can no longer be cancelled.
- Further partial restorations keep partially_restored (partially_restored ->
  partially_restored). A restoration that did not hold goes back to the crew on site:
  partially_restored -> on_site, and restored -> on_site (the incident reopens).
- Closed and cancelled are final.
"""

from datetime import datetime, timedelta
from enum import StrEnum

from outage.errors import Conflict


class IncidentStatus(StrEnum):
    PREDICTED = "predicted"
    """Inferred from reports and meter events; nobody has checked it yet."""
    CONFIRMED = "confirmed"
    """SCADA, a smart meter read or a person confirmed the device."""
    DISPATCHED = "dispatched"
    """A crew is assigned."""
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    PARTIALLY_RESTORED = "partially_restored"
    """Some of the customers have power again (switching, a repaired section)."""
    RESTORED = "restored"
    """Everyone has power again; the cause may still be open."""
    CLOSED = "closed"
    """Restored and the paperwork is done (cause recorded)."""
    CANCELLED = "cancelled"
    """There was no such outage: a false prediction, merged into another, nothing found."""


S = IncidentStatus

TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    # Switching can give part of the customers supply again before any crew arrives.
    S.PREDICTED: frozenset(
        {S.CONFIRMED, S.DISPATCHED, S.CANCELLED, S.PARTIALLY_RESTORED, S.RESTORED}
    ),
    S.CONFIRMED: frozenset({S.DISPATCHED, S.CANCELLED, S.PARTIALLY_RESTORED, S.RESTORED}),
    S.DISPATCHED: frozenset(
        {
            S.DISPATCHED,
            S.EN_ROUTE,
            S.ON_SITE,
            S.CONFIRMED,
            S.CANCELLED,
            S.PARTIALLY_RESTORED,
            S.RESTORED,
        }
    ),
    S.EN_ROUTE: frozenset(
        {S.ON_SITE, S.DISPATCHED, S.CONFIRMED, S.CANCELLED, S.PARTIALLY_RESTORED, S.RESTORED}
    ),
    S.ON_SITE: frozenset({S.PARTIALLY_RESTORED, S.RESTORED, S.CANCELLED}),
    S.PARTIALLY_RESTORED: frozenset(
        {S.PARTIALLY_RESTORED, S.DISPATCHED, S.EN_ROUTE, S.ON_SITE, S.RESTORED}
    ),
    S.RESTORED: frozenset({S.CLOSED, S.ON_SITE}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}
"""Where each status may go next. A status listed under itself may be repeated."""

ACTIVE: frozenset[IncidentStatus] = frozenset(
    {S.PREDICTED, S.CONFIRMED, S.DISPATCHED, S.EN_ROUTE, S.ON_SITE, S.PARTIALLY_RESTORED}
)
"""Customers are (or may be) out: everything but restored, closed and cancelled."""

FINAL: frozenset[IncidentStatus] = frozenset({S.CLOSED, S.CANCELLED})

WITH_CREW: frozenset[IncidentStatus] = frozenset(
    {S.DISPATCHED, S.EN_ROUTE, S.ON_SITE, S.PARTIALLY_RESTORED}
)
"""Statuses in which a crew is assigned."""

CREW_AT_WORK: frozenset[IncidentStatus] = frozenset({S.DISPATCHED, S.EN_ROUTE, S.ON_SITE})
"""A crew is sent, on its way or on site, and nobody has supply again yet: a `confirm`
naming a device is then where the crew found the fault, and the status stays."""

MOMENTARY_LIMIT = timedelta(minutes=5)
"""IEEE 1366: an interruption of 5 minutes or less is momentary, a longer one sustained."""


class InvalidTransition(Conflict, ValueError):
    """A status change the lifecycle does not allow."""

    code = "invalid_transition"

    def __init__(self, incident_id: int | None, current: IncidentStatus, wanted: IncidentStatus):
        self.incident_id = incident_id
        self.current = current
        self.wanted = wanted
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (it is final)"
        subject = f"incident {incident_id}" if incident_id is not None else "an incident"
        super().__init__(
            f"{subject} is {current.value} and cannot become {wanted.value}; "
            f"from {current.value} it may become: {allowed}"
        )


def can_transition(current: IncidentStatus, wanted: IncidentStatus) -> bool:
    return wanted in TRANSITIONS[current]


def check_transition(
    current: IncidentStatus, wanted: IncidentStatus, incident_id: int | None = None
) -> None:
    """Raise `InvalidTransition` unless `current -> wanted` is allowed."""
    if not can_transition(current, wanted):
        raise InvalidTransition(incident_id, current, wanted)


def is_active(status: IncidentStatus) -> bool:
    return status in ACTIVE


def is_momentary(started: datetime, restored: datetime) -> bool:
    """True for an interruption of 5 minutes or less (IEEE 1366), else sustained."""
    if restored < started:
        raise ValueError(
            f"restored at {restored.isoformat()}, before it started at {started.isoformat()}"
        )
    return restored - started <= MOMENTARY_LIMIT
