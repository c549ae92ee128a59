"""Service visits: a lone caller whose meter has power asks us to look at their premise.

Their report closed as inside the premise (`outage/intake/inside.py`): the network reaches
the meter, so the fault is probably behind it. A customer who finds nothing wrong with
their main breaker may ask for a visit, on the ticket's page, by SMS or through an agent:
each files one connection check of the premise, linked to the report (its ticket in the
request's details, and the key `service-visit:<ticket>`). Asking again, by any of these
ways, gets the same request.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.care.enums import RequestType
from outage.care.schemas import RequestIn, RequestReceiptOut
from outage.care.service import submit_request
from outage.errors import Conflict
from outage.grid.models import Customer, Premise
from outage.i18n import Language
from outage.intake.enums import ReportOutcome
from outage.intake.models import Report
from outage.intake.photos import ReportNotFound
from outage.settings import Settings

KEY_PREFIX = "service-visit"


class NoVisitForReport(Conflict, ValueError):
    """The report did not close as inside the premise: a visit is not how it is handled."""


def request_visit(
    session: Session,
    ticket: str,
    *,
    settings: Settings,
    language: Language,
    now: datetime | None = None,
) -> RequestReceiptOut:
    """The service visit of the report's premise, filed once; its receipt."""
    report = session.scalar(select(Report).where(Report.ticket == ticket.strip().upper()))
    if report is None:
        raise ReportNotFound(f"no report with ticket {ticket!r}")
    if report.outcome is not ReportOutcome.INSIDE_PREMISE:
        raise NoVisitForReport(
            f"report {report.ticket} did not close as a fault inside the premise"
        )
    account = (
        session.scalar(select(Customer.account).where(Customer.id == report.customer_id))
        if report.customer_id is not None
        else None
    )
    address = (
        session.scalar(select(Premise.address).where(Premise.id == report.premise_id))
        if account is None and report.premise_id is not None
        else None
    )
    visit = RequestIn(
        type=RequestType.CONNECTION_CHECK,
        account=account,
        phone=report.phone,
        email=report.email,
        address=address,
        channel=report.channel,
        description=f"Report {report.ticket}: the meter has power, the customer still has "
        "none. Check the premise's main breaker and wiring.",
        details={"report": report.ticket},
    )
    return submit_request(
        session,
        visit,
        settings=settings,
        language=language,
        idempotency_key=f"{KEY_PREFIX}:{report.ticket}",
        now=now,
    )
