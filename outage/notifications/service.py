"""Reading what went out: a customer's history for agents, an incident's export."""

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.errors import NotFound
from outage.grid.models import Customer
from outage.incidents.models import Incident
from outage.notifications.models import Notification
from outage.notifications.preferences import UnknownCustomer
from outage.notifications.schemas import NotificationOut
from outage.spreadsheet import cell


class UnknownIncident(NotFound, LookupError):
    """No incident with that id."""


EXPORT_COLUMNS = (
    "notification_id",
    "account",
    "kind",
    "channel",
    "language",
    "status",
    "attempts",
    "created_at",
    "due_at",
    "sent_at",
    "last_error",
    "body",
)
"""The export names the customer by account, not by phone or e-mail address."""


def history(
    session: Session, account: str, *, limit: int = 100, offset: int = 0
) -> list[NotificationOut]:
    """A customer's messages, newest first."""
    customer_id = session.scalar(select(Customer.id).where(Customer.account == account))
    if customer_id is None:
        raise UnknownCustomer(f"no customer with account {account!r}")
    rows = session.scalars(
        select(Notification)
        .where(Notification.customer_id == customer_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [NotificationOut.model_validate(row, from_attributes=True) for row in rows]


def export_csv(session: Session, incident_id: int) -> str:
    """Every message written for an incident, as CSV."""
    if session.get(Incident, incident_id) is None:
        raise UnknownIncident(f"no incident {incident_id}")
    rows = session.execute(
        select(Notification, Customer.account)
        .join(Customer, Customer.id == Notification.customer_id)
        .where(Notification.incident_id == incident_id)
        .order_by(Notification.id)
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for notification, account in rows:
        values = {"notification_id": notification.id, "account": account}
        writer.writerow(
            cell(values[c] if c in values else getattr(notification, c)) for c in EXPORT_COLUMNS
        )
    return out.getvalue()
