"""The unsubscribe link in every message: its page changes nothing on a GET, and its POST
stops the contact the message went to, whatever the message was about."""

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from outage.db import session_scope
from outage.grid.models import Customer
from outage.i18n import Language
from outage.incidents.changes import open_incident
from outage.incidents.enums import IncidentKind
from outage.intake.enums import Hazard
from outage.notifications import subscriptions
from outage.notifications.channels import ONE_CLICK_HEADER, UNSUBSCRIBE_HEADER
from outage.notifications.enums import DeliveryChannel, SubscriptionAction, SubscriptionSource
from outage.notifications.models import (
    NotificationPreference,
    Subscription,
    SubscriptionEvent,
)
from outage.notifications.subscriptions import Actor, Target

from .conftest import Drain, Grid, SmtpInbox, messages_of

FOLLOWER = "+84987000555"


def _customer(session: Session, grid: Grid) -> Customer:
    account = sorted(grid.accounts[grid.fuse])[0]
    return session.scalars(select(Customer).where(Customer.account == account)).one()


def test_every_message_carries_a_link_that_a_get_does_not_use(
    api: TestClient,
    sessions: sessionmaker[Session],
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
) -> None:
    incident = open_outage(grid.fuse)
    drain()
    with sessions() as session:
        customer = _customer(session, grid)
        messages = messages_of(session, incident)
    assert all(m.stop_token for m in messages)
    assert all(m.body.endswith("Ngung: nhan HUY") for m in messages)
    mine = next(m for m in messages if m.customer_id == customer.id)
    for _ in range(2):
        page = api.get(f"/u/{mine.stop_token}")
        assert page.status_code == 200 and 'method="post"' in page.text
        assert mine.address not in page.text and customer.name not in page.text
    with sessions() as session:
        assert session.get(NotificationPreference, customer.id) is None
    assert api.get("/u/no-such-token").status_code == 404


def test_a_post_stops_the_customers_own_contact_safety_included(
    api: TestClient,
    sessions: sessionmaker[Session],
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
) -> None:
    first = open_outage(grid.fuse)
    drain()
    with sessions() as session:
        customer = _customer(session, grid)
        mine = next(m for m in messages_of(session, first) if m.customer_id == customer.id)
    assert api.post(f"/u/{mine.stop_token}").status_code == 200
    with sessions() as session:
        assert session.get_one(NotificationPreference, customer.id).stopped_at is not None
        audited = session.scalars(
            select(SubscriptionEvent).where(SubscriptionEvent.customer_id == customer.id)
        ).one()
    assert (audited.action, audited.via) == (SubscriptionAction.STOPPED, "link")
    with session_scope(sessions) as session:
        hazard = open_incident(
            session,
            kind=IncidentKind.HAZARD,
            account=customer.account,
            hazard=Hazard.WIRES_DOWN,
            confidence=1.0,
            customers_affected=0,
            started_at=datetime.now(UTC),
            reason="wires down",
        )
    drain()
    with sessions() as session:
        assert messages_of(session, hazard) == []


def test_a_followers_link_stops_only_its_subscription(
    api: TestClient,
    sessions: sessionmaker[Session],
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
) -> None:
    with session_scope(sessions) as session:
        customer = _customer(session, grid)
        subscription = subscriptions.subscribe(
            session,
            channel=DeliveryChannel.SMS,
            address=FOLLOWER,
            target=Target(customer_id=customer.id),
            language=Language.EN,
            source=SubscriptionSource.AGENT,
            actor=Actor.staff("test-agent"),
            verified=True,
        ).id
    incident = open_outage(grid.fuse)
    drain()
    with sessions() as session:
        [theirs] = [m for m in messages_of(session, incident) if m.address == FOLLOWER]
    page = api.get(f"/u/{theirs.stop_token}")
    assert "follows" in page.text and FOLLOWER not in page.text
    assert api.post(f"/u/{theirs.stop_token}").status_code == 200
    with sessions() as session:
        assert session.get_one(Subscription, subscription).stopped_at is not None
        assert session.get(NotificationPreference, customer.id) is None


def test_an_email_shows_its_unsubscribe_link_and_offers_one_click(
    sessions: sessionmaker[Session],
    smtp: SmtpInbox,
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
) -> None:
    with session_scope(sessions) as session:
        customer = _customer(session, grid)
        session.execute(
            update(Customer).where(Customer.id == customer.id).values(email="lan@example.com")
        )
        session.add(NotificationPreference(customer_id=customer.id, channel="email"))
    incident = open_outage(grid.fuse)
    drain()
    with sessions() as session:
        [email] = [m for m in messages_of(session, incident) if m.channel is DeliveryChannel.EMAIL]
    link = f"https://outage.example.com/u/{email.stop_token}"
    assert link in email.body
    [(_, sent)] = smtp.messages
    assert sent[UNSUBSCRIBE_HEADER] == f"<{link}>"
    assert sent[ONE_CLICK_HEADER] == "List-Unsubscribe=One-Click"
