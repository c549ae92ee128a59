"""Service visits (rolled back, on the shared database): a report closed because the
meter has power files one connection check of the premise, linked to the report."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_topology.model import Premise
from outage.care.enums import RequestType
from outage.care.models import ServiceRequest
from outage.care.visits import NoVisitForReport, answer_visit_sms, request_visit
from outage.grid.models import Customer
from outage.i18n import Language
from outage.intake.channels.schemas import SmsIn
from outage.intake.enums import Channel, MatchMethod, ReportOutcome, ReportStatus
from outage.intake.models import Report
from outage.intake.photos import ReportNotFound
from outage.settings import get_settings
from outage.tickets import new_ticket
from tests.conftest import rolled_back


@pytest.fixture
def session(grid_database: str) -> Iterator[Session]:
    with rolled_back(grid_database) as db:
        yield db


def _report(session: Session, account: str, outcome: ReportOutcome | None) -> str:
    """A customer's SMS report, closed with `outcome` (None: still open); its ticket."""
    customer = session.scalars(select(Customer).where(Customer.account == account)).one()
    report = Report(
        ticket=new_ticket(datetime.now(UTC), 5),
        channel=Channel.SMS,
        status=ReportStatus.CLOSED if outcome else ReportStatus.RECEIVED,
        closed_at=datetime.now(UTC) if outcome else None,
        outcome=outcome,
        match_method=MatchMethod.ACCOUNT,
        customer_id=customer.id,
        premise_id=customer.premise_id,
        phone=customer.phone,
        candidates=[],
    )
    session.add(report)
    session.flush()
    return report.ticket


def test_a_visit_is_a_connection_check_of_the_premise_linked_to_the_report(
    session: Session, care_customer: Premise
) -> None:
    assert care_customer.customer is not None
    ticket = _report(session, care_customer.customer.account, ReportOutcome.INSIDE_PREMISE)
    receipt = request_visit(session, ticket, settings=get_settings(), language=Language.VI)
    filed = session.scalars(
        select(ServiceRequest).where(ServiceRequest.ticket == receipt.ticket)
    ).one()
    premise_id = session.scalar(
        select(Customer.premise_id).where(Customer.account == care_customer.customer.account)
    )
    assert (filed.request_type, filed.details, filed.premise_id, filed.channel) == (
        RequestType.CONNECTION_CHECK,
        {"report": ticket},
        premise_id,
        Channel.SMS,
    )


def test_asking_again_gets_the_same_request(session: Session, care_customer: Premise) -> None:
    assert care_customer.customer is not None
    ticket = _report(session, care_customer.customer.account, ReportOutcome.INSIDE_PREMISE)
    first = request_visit(session, ticket, settings=get_settings(), language=Language.VI)
    again = request_visit(session, ticket.lower(), settings=get_settings(), language=Language.EN)
    assert again.ticket == first.ticket


def test_a_report_not_closed_inside_the_premise_gets_no_visit(
    session: Session, care_customer: Premise
) -> None:
    assert care_customer.customer is not None
    ticket = _report(session, care_customer.customer.account, None)
    with pytest.raises(NoVisitForReport):
        request_visit(session, ticket, settings=get_settings(), language=Language.VI)


def test_an_unknown_ticket_gets_no_visit(session: Session) -> None:
    with pytest.raises(ReportNotFound):
        request_visit(session, "T-NOPE", settings=get_settings(), language=Language.VI)


def _sms(sender: str, text: str) -> SmsIn:
    return SmsIn.model_validate({"from": sender, "text": text})


def test_an_sms_keyword_from_the_reports_phone_files_the_visit(
    session: Session, care_customer: Premise
) -> None:
    assert care_customer.customer is not None and care_customer.customer.phone
    ticket = _report(session, care_customer.customer.account, ReportOutcome.INSIDE_PREMISE)
    answer = answer_visit_sms(
        session, _sms(care_customer.customer.phone, f"kiểm tra {ticket.lower()}"), get_settings()
    )
    assert answer is not None and answer.ticket is not None
    assert ticket in answer.reply and answer.ticket in answer.reply
    filed = session.scalars(
        select(ServiceRequest).where(ServiceRequest.ticket == answer.ticket)
    ).one()
    assert filed.details == {"report": ticket}


def test_the_keyword_alone_takes_the_senders_latest_report_closed_inside(
    session: Session, care_customer: Premise
) -> None:
    assert care_customer.customer is not None and care_customer.customer.phone
    ticket = _report(session, care_customer.customer.account, ReportOutcome.INSIDE_PREMISE)
    answer = answer_visit_sms(session, _sms(care_customer.customer.phone, "VISIT"), get_settings())
    assert answer is not None and ticket in answer.reply and answer.ticket is not None


def test_the_keyword_from_another_phone_files_nothing(
    session: Session, care_customer: Premise
) -> None:
    assert care_customer.customer is not None
    ticket = _report(session, care_customer.customer.account, ReportOutcome.INSIDE_PREMISE)
    answer = answer_visit_sms(session, _sms("+84909999111", f"VISIT {ticket}"), get_settings())
    assert answer is not None and answer.ticket is None
    filed = session.scalars(
        select(ServiceRequest).where(ServiceRequest.details["report"].astext == ticket)
    ).all()
    assert filed == []


def test_everyday_words_after_kiem_tra_go_on_to_intake(session: Session) -> None:
    message = _sms("+84909999111", "kiem tra giup toi day dien dut truoc nha")
    assert answer_visit_sms(session, message, get_settings()) is None
