"""Customers' preferences: channel and language, opt-out, quiet hours; safety overrides."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from outage.db import session_scope
from outage.grid.models import Customer
from outage.incidents.changes import open_incident
from outage.incidents.enums import IncidentKind
from outage.intake.enums import Hazard
from outage.notifications import preferences
from outage.notifications.channels import EMAIL_KEY_HEADER
from outage.notifications.enums import DeliveryChannel, DeliveryStatus
from outage.notifications.models import NotificationPreference
from outage.notifications.schemas import PreferencesIn
from outage.notifications.sink import HttpSink
from outage.notifications.subscriptions import Actor, set_own_stop

from .conftest import Drain, Grid, SmtpInbox, messages_of


def _accounts(grid: Grid) -> list[str]:
    return sorted(grid.accounts[grid.fuse])


def _prefer(sessions: sessionmaker[Session], account: str, **chosen: object) -> None:
    with session_scope(sessions) as session:
        preferences.set_preferences(session, account, PreferencesIn.model_validate(chosen))


def _quiet_now() -> str:
    local = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    return f"{local - timedelta(hours=1):%H:%M}-{local + timedelta(hours=1):%H:%M}"


def _hazard_at(sessions: sessionmaker[Session], account: str) -> int:
    with session_scope(sessions) as session:
        return open_incident(
            session,
            kind=IncidentKind.HAZARD,
            account=account,
            hazard=Hazard.WIRES_DOWN,
            confidence=1.0,
            customers_affected=0,
            started_at=datetime.now(UTC),
            reason="wires down",
        )


def test_an_opted_out_customer_gets_no_outage_news(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage: Callable[..., int]
) -> None:
    quiet_one = _accounts(grid)[0]
    _prefer(sessions, quiet_one, opt_out=True)
    incident = open_outage(grid.fuse)
    drain()
    with sessions() as session:
        told = {m.customer_id for m in messages_of(session, incident)}
        opted_out = session.scalar(select(Customer.id).where(Customer.account == quiet_one))
    assert opted_out not in told and len(told) == len(_accounts(grid)) - 1


def test_a_safety_message_reaches_an_opted_out_customer_in_quiet_hours(
    sessions: sessionmaker[Session], sink: HttpSink, drain: Drain, grid: Grid
) -> None:
    account = _accounts(grid)[0]
    _prefer(sessions, account, opt_out=True, quiet_hours=_quiet_now())
    hazard = _hazard_at(sessions, account)
    drain()
    with sessions() as session:
        [message] = messages_of(session, hazard)
    assert message.safety and message.status is DeliveryStatus.SENT
    assert len(sink.received()) == 1


def test_quiet_hours_hold_a_message_until_they_end(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage: Callable[..., int]
) -> None:
    sleeper = _accounts(grid)[0]
    _prefer(sessions, sleeper, quiet_hours=_quiet_now())
    incident = open_outage(grid.fuse)
    drain()
    with sessions() as session:
        held = [m for m in messages_of(session, incident) if m.status is DeliveryStatus.PENDING]
        sleeper_id = session.scalar(select(Customer.id).where(Customer.account == sleeper))
    assert [m.customer_id for m in held] == [sleeper_id]
    assert held[0].due_at > datetime.now(UTC) + timedelta(minutes=50)


def test_an_english_email_goes_out_over_smtp_with_its_key(
    sessions: sessionmaker[Session],
    smtp: SmtpInbox,
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
) -> None:
    account = _accounts(grid)[0]
    with session_scope(sessions) as session:
        session.execute(
            update(Customer).where(Customer.account == account).values(email="lan@example.com")
        )
    _prefer(sessions, account, channel="email", language="en")
    incident = open_outage(grid.fuse)
    drain()
    with sessions() as session:
        [email] = [m for m in messages_of(session, incident) if m.channel is DeliveryChannel.EMAIL]
    assert email.status is DeliveryStatus.SENT
    [(recipients, message)] = smtp.messages
    assert recipients == ["lan@example.com"]
    assert message["Subject"] == "Power outage in your area"
    assert message[EMAIL_KEY_HEADER] == email.delivery_key


def test_the_other_customers_hear_in_vietnamese_by_sms(
    sessions: sessionmaker[Session], sink: HttpSink, drain: Drain, grid: Grid, open_outage
) -> None:
    account = _accounts(grid)[0]
    _prefer(sessions, account, language="vi")
    incident = open_outage(grid.fuse)
    drain()
    with sessions() as session:
        mine = next(
            m
            for m in messages_of(session, incident)
            if m.customer_id
            == session.scalar(select(Customer.id).where(Customer.account == account))
        )
    assert mine.channel is DeliveryChannel.SMS and mine.body.startswith("Dien luc")
    assert sink.received()[mine.delivery_key]["message"] == mine.body


def test_staff_lifting_the_opt_out_lift_a_stop_the_customer_sent(
    sessions: sessionmaker[Session], grid: Grid
) -> None:
    account = _accounts(grid)[0]
    with session_scope(sessions) as session:
        customer_id = session.scalar(select(Customer.id).where(Customer.account == account))
        assert customer_id is not None
        set_own_stop(session, customer_id, True, Actor.contact("sms"))
    _prefer(sessions, account, opt_out=True, language="en")
    with sessions() as session:
        assert session.get_one(NotificationPreference, customer_id).stopped_at is not None
    _prefer(sessions, account, language="en")
    with sessions() as session:
        lifted = session.get_one(NotificationPreference, customer_id)
    assert lifted.stopped_at is None and not lifted.opt_out


def test_a_customer_who_chose_zalo_hears_of_an_outage_on_zalo(
    sessions: sessionmaker[Session],
    sink: HttpSink,
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
) -> None:
    account = _accounts(grid)[0]
    _prefer(sessions, account, channel="zalo")
    with session_scope(sessions) as session:
        customer_id = session.scalar(select(Customer.id).where(Customer.account == account))
        session.execute(
            update(NotificationPreference)
            .where(NotificationPreference.customer_id == customer_id)
            .values(zalo_user_id="zalo-follower-7")
        )
    incident = open_outage(grid.fuse)
    drain()
    with sessions() as session:
        mine = [m for m in messages_of(session, incident) if m.customer_id == customer_id]
    assert [(m.channel, m.address, m.status) for m in mine] == [
        (DeliveryChannel.ZALO, "zalo-follower-7", DeliveryStatus.SENT)
    ]
    on_zalo = [m for m in sink.received().values() if m.get("channel") == "zalo"]
    assert [m["to"] for m in on_zalo] == ["zalo-follower-7"]
