"""Closing reports when their customer's supply is back, or there was no outage, and
opening them again when a restoration did not hold.

The incidents service calls this where an incident's customers are restored or the
incident is cancelled, with the time that happened: a report closes at its customer's
restoration, not when someone got round to recording it. A report received after that
time tells of something the restoration did not cover: it leaves the incident for the
prediction engine to look at again. A report waiting for an agent stays in the agents'
queue: closing and reopening leave it alone.
"""

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, case, or_, select, update
from sqlalchemy.orm import Session

from outage.grid.models import Customer
from outage.intake.enums import ReportStatus
from outage.intake.models import Report

_CLOSABLE = (ReportStatus.RECEIVED, ReportStatus.DUPLICATE)
"""Not a report waiting for an agent: it stays in the agents' queue."""


def close_reports(
    session: Session,
    incident_id: int,
    at: datetime,
    *,
    accounts: Collection[str] | None = None,
) -> int:
    """Close the open reports of an incident (and the duplicates joined to them) received
    by `at`: all of them, or those placed on one of `accounts`; detach those received
    after it. Returns how many were closed."""
    conditions = [_of_incident(incident_id), Report.status.in_(_CLOSABLE)]
    if accounts is not None:
        if not accounts:
            return 0
        customers = select(Customer.id).where(Customer.account.in_(sorted(accounts)))
        conditions.append(Report.customer_id.in_(customers))
    session.execute(
        update(Report)
        .where(*conditions, Report.incident_id == incident_id, Report.received_at > at)
        .values(incident_id=None),
        execution_options={"synchronize_session": False},
    )
    result = session.execute(
        update(Report)
        .where(*conditions, Report.received_at <= at)
        .values(status=ReportStatus.CLOSED, closed_at=at),
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
    """The incident's reports and the duplicates joined to them that are not evidence of
    another incident."""
    of_incident = select(Report.id).where(Report.incident_id == incident_id)
    return or_(
        Report.incident_id == incident_id,
        Report.duplicate_of_id.in_(of_incident) & Report.incident_id.is_(None),
    )
