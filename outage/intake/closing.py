"""Closing reports when their customer's supply is back, or there was no outage.

The incidents service calls this where an incident's customers are restored or the
incident is cancelled, with the time that happened: a report closes at its customer's
restoration, not when someone got round to recording it.
"""

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from outage.grid.models import Customer
from outage.intake.enums import ReportStatus
from outage.intake.models import Report


def close_reports(
    session: Session,
    incident_id: int,
    at: datetime,
    *,
    accounts: Collection[str] | None = None,
) -> int:
    """Close the open reports of an incident (and the duplicates joined to them): all of
    them, or those placed on one of `accounts`. Returns how many were closed."""
    of_incident = select(Report.id).where(Report.incident_id == incident_id)
    statement = update(Report).where(
        or_(Report.incident_id == incident_id, Report.duplicate_of_id.in_(of_incident)),
        Report.status != ReportStatus.CLOSED,
    )
    if accounts is not None:
        if not accounts:
            return 0
        customers = select(Customer.id).where(Customer.account.in_(sorted(accounts)))
        statement = statement.where(Report.customer_id.in_(customers))
    result = session.execute(
        statement.values(status=ReportStatus.CLOSED, closed_at=at),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)
