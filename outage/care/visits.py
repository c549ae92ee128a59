"""Service visits: a lone caller whose meter has power asks us to look at their premise.

Their report closed as inside the premise (`outage/intake/inside.py`): the network reaches
the meter, so the fault is probably behind it. A customer who finds nothing wrong with
their main breaker may ask for a visit, on the ticket's page, by SMS or through an agent:
each files one connection check of the premise, linked to the report (its ticket in the
request's details, and the key `service-visit:<ticket>`). Asking again, by any of these
ways, gets the same request.

By SMS: `KIEMTRA [ticket]` (or `KIEM TRA`, `VISIT`), from the phone given with the report
or registered to its customer; without a ticket, the sender's latest report closed as
inside the premise. "Kiểm tra" is also everyday Vietnamese ("check"), so a message is
taken as the keyword only when the keyword stands alone or a ticket follows it: any other
goes on to intake, which reads it for a hazard.
"""

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.care.enums import RequestType
from outage.care.schemas import RequestIn, RequestReceiptOut
from outage.care.service import submit_request
from outage.errors import Conflict, DomainError
from outage.grid.models import Customer, Premise
from outage.i18n import Language
from outage.intake.channels.common import fold, phone_or_none
from outage.intake.channels.schemas import SmsIn, SmsOut
from outage.intake.channels.texts import render, sms_text
from outage.intake.enums import ReportOutcome
from outage.intake.models import Report
from outage.intake.photos import ReportNotFound
from outage.intake.service import status_phones
from outage.settings import Settings
from outage.tickets import TICKET_ALPHABET

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


KEYWORDS: dict[tuple[str, ...], Language] = {
    ("KIEMTRA",): Language.VI,
    ("KIEM", "TRA"): Language.VI,
    ("VISIT",): Language.EN,
}
_TICKET = re.compile(rf"^\d{{6}}-[{TICKET_ALPHABET}]{{4,8}}$")


def _parse(text: str) -> tuple[Language, str | None] | None:
    """The keyword's language and the ticket after it; None when the message is no visit
    keyword (or words, not a ticket, follow it)."""
    words = fold(text).upper().split()
    for keyword, language in KEYWORDS.items():
        if tuple(words[: len(keyword)]) != keyword:
            continue
        rest = words[len(keyword) :]
        if not rest:
            return language, None
        if len(rest) == 1 and _TICKET.match(rest[0]):
            return language, rest[0]
    return None


def answer_visit_sms(session: Session, message: SmsIn, settings: Settings) -> SmsOut | None:
    """The SMS reply to a visit keyword, the visit filed; None for any other message."""
    parsed = _parse(message.text)
    if parsed is None:
        return None
    language, ticket = parsed
    sender = phone_or_none(message.sender)
    if ticket is None and sender is not None:
        ticket = session.scalar(
            select(Report.ticket)
            .where(Report.phone == sender, Report.outcome == ReportOutcome.INSIDE_PREMISE)
            .order_by(Report.received_at.desc())
            .limit(1)
        )
    if ticket is None:
        return SmsOut(reply=sms_text(render("visit.usage", language)))
    if sender is None or sender not in status_phones(session, ticket):
        return SmsOut(reply=sms_text(render("visit.refused", language, ticket=ticket)))
    try:
        with session.begin_nested():
            receipt = request_visit(session, ticket, settings=settings, language=language)
    except DomainError:
        return SmsOut(reply=sms_text(render("visit.refused", language, ticket=ticket)))
    reply = render("visit.filed", language, ticket=ticket, request=receipt.ticket)
    return SmsOut(reply=sms_text(reply), ticket=receipt.ticket)
