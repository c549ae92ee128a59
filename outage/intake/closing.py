"""Closing reports when their customer's supply is back, or there was no outage, and
opening them again when a restoration did not hold.

The incidents service calls this where an incident's customers are restored or the
incident is cancelled, with the time that happened: a report closes at its customer's
restoration, not when someone got round to recording it.
"""

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, case, or_, select, update
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
    statement = update(Report).where(
        _of_incident(incident_id), Report.status != ReportStatus.CLOSED
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


def reopen_reports(session: Session, incident_id: int) -> None:
    """The incident's restoration did not hold: its closed reports are open again (a
    duplicate stays joined to its earlier report)."""
    session.execute(
        update(Report)
        .where(_of_incident(incident_id), Report.status == ReportStatus.CLOSED)
        .values(
            status=case(
                (Report.duplicate_of_id.is_not(None), ReportStatus.DUPLICATE),
                else_=ReportStatus.RECEIVED,
            ),
            closed_at=None,
        ),
        execution_options={"synchronize_session": False},
    )


def _of_incident(incident_id: int) -> ColumnElement[bool]:
    """The incident's reports and the duplicates joined to them."""
    of_incident = select(Report.id).where(Report.incident_id == incident_id)
    return or_(Report.incident_id == incident_id, Report.duplicate_of_id.in_(of_incident))
