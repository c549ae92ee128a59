"""A lone caller whose meter has power: the fault is inside their premise.

When a customer alone reports an outage, their meter is asked first (a ping of reason
`single_call`). Its "on" means the network reaches the premise: no outage incident is
opened (the engine reads the answer as a live meter), and the customer's open reports
close with the outcome `inside_premise`. Each one's customer is told once, through the
outbox, to check their main breaker and how to ask for a service visit
(`EventKind.INSIDE_PREMISE`, fanned out to the one who filed the report).

A report on an incident (or joined to one that is) belongs to that incident: the meter's
answer says nothing of a wider outage, so it is left alone. So are reports waiting for an
agent, and hazard reports: a danger is there whatever the meter says.
"""

from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, aliased

from outage.grid.models import Customer
from outage.intake.enums import ReportOutcome, ReportStatus, ServiceCode
from outage.intake.models import Report
from outage.outbox.enums import EventKind
from outage.outbox.writer import write_event

_OPEN = (ReportStatus.RECEIVED, ReportStatus.DUPLICATE)


def close_inside_premise(session: Session, premise_id: int, answered_at: datetime) -> list[str]:
    """Close the open outage reports of the premise's customers received by `answered_at`
    and on no incident, each with one message to its customer; their tickets."""
    earlier = aliased(Report)
    on_incident = exists().where(
        earlier.id == Report.duplicate_of_id, earlier.incident_id.is_not(None)
    )
    customers = select(Customer.id).where(Customer.premise_id == premise_id)
    reports = session.scalars(
        select(Report)
        .where(
            or_(Report.customer_id.in_(customers), Report.premise_id == premise_id),
            Report.service_code == ServiceCode.OUTAGE,
            Report.status.in_(_OPEN),
            Report.incident_id.is_(None),
            Report.received_at <= answered_at,
            ~on_incident,
        )
        .order_by(Report.id)
        .with_for_update(of=Report)
    ).all()
    for report in reports:
        report.status = ReportStatus.CLOSED
        report.closed_at = answered_at
        report.outcome = ReportOutcome.INSIDE_PREMISE
        write_event(
            session,
            EventKind.INSIDE_PREMISE,
            report_id=report.id,
            device_id=None,
            details={"ticket": report.ticket},
        )
    session.flush()
    return [report.ticket for report in reports]
