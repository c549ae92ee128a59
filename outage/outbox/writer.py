"""Writing the outbox: one event row per thing customers must be told, in the caller's
transaction, so a change and the notifications it implies commit (or vanish) together.

An event is small whatever the outage's size: the delivery workers fan it out to one
message per customer afterwards (`outage.notifications.fanout`), so the writer's
transaction stays short. Writers hand over plain values; what an event means for an
incident or a planned outage is decided by its domain.
"""

from typing import Any

from sqlalchemy.orm import Session

from outage.outbox.enums import EventKind
from outage.outbox.models import NotificationEvent


def write_event(
    session: Session,
    kind: EventKind,
    *,
    incident_id: int | None = None,
    planned_outage_id: int | None = None,
    service_request_id: int | None = None,
    report_id: int | None = None,
    device_id: int | None,
    premise_id: int | None = None,
    accounts: list[str] | None = None,
    safety: bool = False,
    details: dict[str, Any],
) -> None:
    """Customers downstream of `device_id` (or, without one, those at `premise_id`; or,
    when given, exactly the customers with these `accounts`) are to be told `kind` about
    one subject: an incident or a planned outage. About a service request, its requester
    is told; about a report, the one who filed it (no device, no premise)."""
    session.add(
        NotificationEvent(
            kind=kind,
            incident_id=incident_id,
            planned_outage_id=planned_outage_id,
            service_request_id=service_request_id,
            report_id=report_id,
            device_id=device_id,
            premise_id=premise_id,
            accounts=accounts,
            safety=safety,
            details=details,
        )
    )
