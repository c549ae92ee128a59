"""Contacts that follow an account or a premise hear of its outages beside the customer's
own contact: once per contact and event, and never twice to one address."""

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.etr import EtrSource
from outage.db import session_scope
from outage.grid.models import Customer
from outage.i18n import Language
from outage.incidents.changes import set_etr
from outage.intake.enums import Channel, MatchMethod, ReportStatus
from outage.intake.models import Report
from outage.notifications import subscriptions
from outage.notifications.enums import DeliveryChannel, DeliveryStatus, SubscriptionSource
from outage.notifications.models import Notification, Subscription
from outage.notifications.sink import HttpSink
from outage.notifications.subscriptions import Actor, Target
from outage.outbox.enums import EventKind

from .conftest import Drain, Grid, messages_of

DAUGHTER = "+84987000111"


def _customer(session: Session, account: str) -> Customer:
    return session.scalars(select(Customer).where(Customer.account == account)).one()


def _follow(
    sessions: sessionmaker[Session],
    target: Callable[[Customer], Target],
    account: str,
    *,
    address: str = DAUGHTER,
    verified: bool = True,
    language: Language = Language.EN,
) -> int:
    with session_scope(sessions) as session:
        row = subscriptions.subscribe(
            session,
            channel=DeliveryChannel.SMS,
            address=address,
            target=target(_customer(session, account)),
            language=language,
            source=SubscriptionSource.AGENT,
            actor=Actor.staff("test-agent"),
            verified=verified,
        )
        return row.id


def _by_account(customer: Customer) -> Target:
    return Target(customer_id=customer.id)


def _by_premise(customer: Customer) -> Target:
    return Target(premise_id=customer.premise_id)


def _to(session: Session, incident: int, address: str) -> list[Notification]:
    return [m for m in messages_of(session, incident) if m.address == address]


def test_a_second_contact_of_an_account_hears_beside_the_customer(
    sessions: sessionmaker[Session],
    sink: HttpSink,
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
) -> None:
    account = sorted(grid.accounts[grid.fuse])[0]
    subscription = _follow(sessions, _by_account, account)
    incident = open_outage(grid.fuse)
    drain()
    with sessions() as session:
        customer = _customer(session, account)
        [theirs] = _to(session, incident, DAUGHTER)
        own = [m for m in messages_of(session, incident) if m.subscription_id is None]
    assert theirs.subscription_id == subscription and theirs.customer_id == customer.id
    assert theirs.language is Language.EN and theirs.body.startswith("Power company")
    assert theirs.body.endswith("Stop: reply STOP")
    assert len(own) == len(grid.accounts[grid.fuse])
    mine = next(m for m in own if m.customer_id == customer.id)
    assert mine.delivery_key == f"i{incident}:c{customer.id}:outage_detected"
    assert theirs.delivery_key != mine.delivery_key
    assert sink.received()[theirs.delivery_key]["to"] == DAUGHTER


def test_a_follower_of_an_address_hears_of_its_outage(
    sessions: sessionmaker[Session],
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
) -> None:
    account = sorted(grid.accounts[grid.fuse])[0]
    _follow(sessions, _by_premise, account)
    incident = open_outage(grid.fuse)
    drain()
    with sessions() as session:
        assert len(_to(session, incident, DAUGHTER)) == 1


def test_a_contact_following_several_affected_customers_hears_once(
    sessions: sessionmaker[Session],
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
) -> None:
    first, second = sorted(grid.accounts[grid.fuse])[:2]
    _follow(sessions, _by_account, first)
    _follow(sessions, _by_account, second)
    _follow(sessions, _by_premise, second)
    incident = open_outage(grid.fuse)
    drain()
    with sessions() as session:
        assert len(_to(session, incident, DAUGHTER)) == 1


def test_a_subscription_of_the_customers_own_phone_is_not_a_second_message(
    sessions: sessionmaker[Session],
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
) -> None:
    account = sorted(grid.accounts[grid.fuse])[0]
    with sessions() as session:
        phone = _customer(session, account).phone
    assert phone is not None
    _follow(sessions, _by_account, account, address=phone)
    incident = open_outage(grid.fuse)
    drain()
    with sessions() as session:
        [message] = _to(session, incident, phone)
    assert message.subscription_id is None


def test_unverified_and_stopped_contacts_hear_nothing(
    sessions: sessionmaker[Session],
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
) -> None:
    first, second = sorted(grid.accounts[grid.fuse])[:2]
    _follow(sessions, _by_account, first, verified=False)
    stopped = _follow(sessions, _by_account, second, address="+84987000222")
    with session_scope(sessions) as session:
        row = session.get_one(Subscription, stopped)
        subscriptions.stop(session, row, Actor.contact("sms"))
    incident = open_outage(grid.fuse)
    drain()
    with sessions() as session:
        assert _to(session, incident, DAUGHTER) == []
        assert _to(session, incident, "+84987000222") == []


def test_a_followers_etr_changes_in_a_storm_coalesce_like_the_customers(
    sessions: sessionmaker[Session],
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
) -> None:
    _follow(sessions, _by_account, sorted(grid.accounts[grid.fuse])[0])
    incident = open_outage(grid.fuse)
    for hours in (2, 3, 4, 5):
        etr = (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)
        with session_scope(sessions) as session:
            set_etr(session, incident, etr=etr, source=EtrSource.DISPATCHER)
        drain()
    with sessions() as session:
        theirs = _to(session, incident, DAUGHTER)
    kinds = Counter((m.kind, m.status) for m in theirs)
    assert kinds == {  # the first ETR rode in the first notice
        (EventKind.OUTAGE_DETECTED, DeliveryStatus.SENT): 1,
        (EventKind.ETR_CHANGED, DeliveryStatus.PENDING): 1,
    }
    [waiting] = [m for m in theirs if m.status is DeliveryStatus.PENDING]
    assert f"{etr.astimezone(ZoneInfo('Asia/Ho_Chi_Minh')):%H:%M}" in waiting.body


def test_a_stop_skips_the_messages_still_waiting_for_the_contact(
    sessions: sessionmaker[Session],
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
) -> None:
    subscription = _follow(sessions, _by_account, sorted(grid.accounts[grid.fuse])[0])
    incident = open_outage(grid.fuse)
    for hours in (2, 3, 4):
        etr = (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)
        with session_scope(sessions) as session:
            set_etr(session, incident, etr=etr, source=EtrSource.DISPATCHER)
        drain()
    with session_scope(sessions) as session:
        subscriptions.stop(
            session, session.get_one(Subscription, subscription), Actor.contact("sms")
        )
    drain()
    with sessions() as session:
        statuses = Counter(m.status for m in _to(session, incident, DAUGHTER))
    assert statuses[DeliveryStatus.PENDING] == 0
    assert statuses[DeliveryStatus.SKIPPED] == 1


def test_a_follower_is_not_told_the_customers_ticket(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage: Callable[..., int]
) -> None:
    account = sorted(grid.accounts[grid.fuse])[0]
    _follow(sessions, _by_account, account)
    incident = open_outage(grid.fuse)
    with session_scope(sessions) as session:
        session.add(
            Report(
                ticket="261206-OWNTKT",
                channel=Channel.SMS,
                status=ReportStatus.RECEIVED,
                match_method=MatchMethod.ACCOUNT,
                match_confidence=1.0,
                candidates=[],
                customer_id=_customer(session, account).id,
                incident_id=incident,
            )
        )
    drain()
    with sessions() as session:
        [theirs] = _to(session, incident, DAUGHTER)
        own = [m for m in messages_of(session, incident) if "261206-OWNTKT" in m.body]
    assert "261206-OWNTKT" not in theirs.body and len(own) == 1
