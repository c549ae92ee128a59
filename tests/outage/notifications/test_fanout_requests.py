"""A service request's requester hears of its arrival and of every change of its state,
through the outbox, on the real gateways (the SMS sink, the SMTP server)."""

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from outage.care import service as care
from outage.care.enums import RequestState, RequestType
from outage.care.schemas import RequestIn
from outage.db import session_scope
from outage.grid.models import Customer
from outage.i18n import Language
from outage.intake.enums import Channel
from outage.notifications.enums import DeliveryChannel
from outage.notifications.models import Notification, NotificationPreference
from outage.notifications.sink import HttpSink
from outage.notifications.subscriptions import Actor, set_own_stop
from outage.outbox.models import NotificationEvent
from outage.settings import Settings
from tests.outage.notifications.conftest import Drain, SmtpInbox

S = RequestState
PHONE = "+84901234567"


def _file(
    sessions: sessionmaker[Session], settings: Settings, language: Language, **clues: str
) -> str:
    request = RequestIn(
        type=RequestType.METER_CHECK,
        description="the meter runs fast",
        channel=Channel.WEB,
        **clues,  # type: ignore[arg-type]
    )
    with session_scope(sessions) as session:
        return care.submit_request(session, request, settings=settings, language=language).ticket


def _move(
    sessions: sessionmaker[Session], ticket: str, to: RequestState, reason: str | None = None
) -> None:
    with session_scope(sessions) as session:
        care.transition(session, ticket, to=to, reason=reason, actor="agent")


def _messages(sessions: sessionmaker[Session], ticket: str) -> list[Notification]:
    with session_scope(sessions) as session:
        return list(
            session.scalars(
                select(Notification)
                .join(NotificationEvent, NotificationEvent.id == Notification.event_id)
                .where(NotificationEvent.details["ticket"].astext == ticket)
                .order_by(Notification.id)
            )
        )


def test_the_requester_hears_of_the_arrival_and_every_change_of_state(
    sessions: sessionmaker[Session], settings: Settings, sink: HttpSink, drain: Drain
) -> None:
    ticket = _file(sessions, settings, Language.EN, phone=PHONE)
    drain()
    _move(sessions, ticket, S.IN_PROGRESS)
    _move(sessions, ticket, S.WAITING_FOR_CUSTOMER)
    _move(sessions, ticket, S.IN_PROGRESS)
    _move(sessions, ticket, S.DONE)
    drain()
    messages = _messages(sessions, ticket)
    assert [m.channel for m in messages] == [DeliveryChannel.SMS] * 5
    assert {m.customer_id for m in messages} == {None}
    assert all(m.language is Language.EN and ticket in m.body for m in messages)
    assert ") received." in messages[0].body
    assert "needs information from you" in messages[2].body
    assert "is done" in messages[4].body
    sent = [p for key, p in sink.received().items() if key.startswith("r")]
    assert len(sent) == 5


def test_a_rejection_tells_its_reason_in_the_requests_language(
    sessions: sessionmaker[Session], settings: Settings, drain: Drain
) -> None:
    ticket = _file(sessions, settings, Language.VI, phone=PHONE)
    _move(sessions, ticket, S.REJECTED, reason="trùng với yêu cầu khác")
    drain()
    rejected = _messages(sessions, ticket)[-1]
    assert rejected.language is Language.VI
    assert "trung voi yeu cau khac" in rejected.body  # SMS text is folded to GSM-7
    assert ticket in rejected.body


def test_a_requester_who_gave_only_an_email_gets_an_email(
    sessions: sessionmaker[Session], settings: Settings, smtp: SmtpInbox, drain: Drain
) -> None:
    ticket = _file(sessions, settings, Language.EN, email="requester@example.net")
    drain()
    [message] = _messages(sessions, ticket)
    assert message.channel is DeliveryChannel.EMAIL
    [(to, mail)] = smtp.messages
    assert to == ["requester@example.net"]
    assert ticket in str(mail["Subject"])


def test_a_request_on_a_customer_with_no_contact_given_uses_their_preferences(
    sessions: sessionmaker[Session], settings: Settings, drain: Drain
) -> None:
    with session_scope(sessions) as session:
        customer = session.scalars(
            select(Customer).where(Customer.phone.is_not(None), Customer.email.is_not(None))
        ).first()
        assert customer is not None
        account, email = customer.account, customer.email
        session.add(
            NotificationPreference(
                customer_id=customer.id, channel=DeliveryChannel.EMAIL, language=Language.EN
            )
        )
    ticket = _file(sessions, settings, Language.VI, account=account)
    drain()
    [message] = _messages(sessions, ticket)
    assert message.channel is DeliveryChannel.EMAIL
    assert message.address == email
    assert message.language is Language.EN
    assert message.customer_id is not None


def test_each_state_is_told_once_however_often_its_event_is_fanned_out(
    sessions: sessionmaker[Session], settings: Settings, sink: HttpSink, drain: Drain
) -> None:
    ticket = _file(sessions, settings, Language.EN, phone=PHONE)
    _move(sessions, ticket, S.IN_PROGRESS)
    drain()
    with session_scope(sessions) as session:
        session.execute(update(NotificationEvent).values(expanded_at=None))
    drain()
    assert len(_messages(sessions, ticket)) == 2
    assert len([key for key in sink.received() if key.startswith("r")]) == 2
    assert sink.state.repeats == 0


def _customer_with_phone(sessions: sessionmaker[Session]) -> Customer:
    with session_scope(sessions) as session:
        customer = session.scalars(
            select(Customer).where(Customer.phone.is_not(None)).order_by(Customer.id.desc())
        ).first()
        assert customer is not None
        session.expunge(customer)
        return customer


def test_a_requesters_own_phone_on_someone_elses_account_names_no_customer_nor_stop_link(
    sessions: sessionmaker[Session], settings: Settings, drain: Drain
) -> None:
    customer = _customer_with_phone(sessions)
    ticket = _file(sessions, settings, Language.EN, account=customer.account, phone=PHONE)
    drain()
    [message] = _messages(sessions, ticket)
    assert (message.address, message.customer_id, message.stop_token) == (PHONE, None, None)


def test_a_customer_who_said_stop_hears_nothing_of_a_request_at_their_own_phone(
    sessions: sessionmaker[Session], settings: Settings, drain: Drain
) -> None:
    customer = _customer_with_phone(sessions)
    with session_scope(sessions) as session:
        set_own_stop(session, customer.id, True, Actor.contact("sms"))
    assert customer.phone is not None
    ticket = _file(sessions, settings, Language.EN, account=customer.account, phone=customer.phone)
    drain()
    assert _messages(sessions, ticket) == []
