"""A lone caller whose meter has power hears it once, on the channel they reported on, in
their language: check the main breaker, and how to ask for a service visit."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from outage.db import session_scope
from outage.grid.models import Customer
from outage.i18n import Language
from outage.intake.enums import Channel, MatchMethod, ReportStatus
from outage.intake.inside import close_inside_premise
from outage.intake.models import Report
from outage.notifications.enums import DeliveryChannel
from outage.notifications.models import Notification, NotificationPreference
from outage.notifications.sink import HttpSink
from outage.outbox.models import NotificationEvent
from outage.tickets import new_ticket
from tests.outage.notifications.conftest import Drain, SmtpInbox

EMAIL = "caller@example.net"


def _customer(session: Session, language: Language, stopped: datetime | None) -> Customer:
    customer = session.scalars(
        select(Customer).where(Customer.phone.is_not(None)).order_by(Customer.id)
    ).first()
    assert customer is not None
    session.add(
        NotificationPreference(customer_id=customer.id, language=language, stopped_at=stopped)
    )
    return customer


def _closed(
    sessions: sessionmaker[Session],
    language: Language,
    channel: Channel,
    stopped: datetime | None = None,
    **contact: str,
) -> str:
    """A report of a customer (who reads `language`, and said STOP at `stopped`) closed as
    inside the premise: its ticket."""
    now = datetime.now(UTC)
    with session_scope(sessions) as session:
        customer = _customer(session, language, stopped)
        contact = {key: value or str(customer.phone) for key, value in contact.items()}
        report = Report(
            ticket=new_ticket(now, 5),
            channel=channel,
            status=ReportStatus.RECEIVED,
            received_at=now - timedelta(minutes=5),
            customer_id=customer.id,
            premise_id=customer.premise_id,
            match_method=MatchMethod.ACCOUNT,
            match_confidence=1.0,
            **contact,
        )
        session.add(report)
        session.flush()
        close_inside_premise(session, customer.premise_id, now)
        return report.ticket


def _messages(sessions: sessionmaker[Session], ticket: str) -> list[Notification]:
    with session_scope(sessions) as session:
        return list(
            session.scalars(
                select(Notification)
                .join(Report, Report.id == Notification.report_id)
                .where(Report.ticket == ticket)
            )
        )


def test_an_sms_caller_gets_one_sms_in_english_with_the_visit_keyword(
    sessions: sessionmaker[Session], sink: HttpSink, drain: Drain
) -> None:
    ticket = _closed(sessions, Language.EN, Channel.SMS, phone="+84901234567")
    drain()
    [message] = _messages(sessions, ticket)
    assert (message.channel, message.address) == (DeliveryChannel.SMS, "+84901234567")
    assert "meter has power" in message.body and "main breaker" in message.body
    assert f"VISIT {ticket}" in message.body
    assert len(message.body) <= 160


def test_a_vietnamese_caller_is_told_in_vietnamese(
    sessions: sessionmaker[Session], drain: Drain
) -> None:
    ticket = _closed(sessions, Language.VI, Channel.SMS, phone="+84901234567")
    drain()
    [message] = _messages(sessions, ticket)
    assert message.language is Language.VI
    assert "aptomat" in message.body and f"KIEMTRA {ticket}" in message.body


def test_an_email_caller_gets_an_email_with_the_tickets_page(
    sessions: sessionmaker[Session], smtp: SmtpInbox, drain: Drain
) -> None:
    ticket = _closed(sessions, Language.EN, Channel.EMAIL, email=EMAIL)
    drain()
    [message] = _messages(sessions, ticket)
    assert (message.channel, message.address) == (DeliveryChannel.EMAIL, EMAIL)
    assert f"https://outage.example.com/status/{ticket}" in message.body
    [(to, mail)] = smtp.messages
    assert to == [EMAIL] and ticket in str(mail["Subject"])


def test_the_message_is_written_once_however_often_its_event_is_fanned_out(
    sessions: sessionmaker[Session], drain: Drain
) -> None:
    ticket = _closed(sessions, Language.EN, Channel.SMS, phone="+84901234567")
    drain()
    with session_scope(sessions) as session:
        session.execute(update(NotificationEvent).values(expanded_at=None))
    drain()
    assert len(_messages(sessions, ticket)) == 1


def test_a_caller_who_said_stop_at_that_phone_hears_nothing(
    sessions: sessionmaker[Session], drain: Drain
) -> None:
    ticket = _closed(sessions, Language.EN, Channel.SMS, stopped=datetime.now(UTC), phone="")
    drain()
    assert _messages(sessions, ticket) == []
