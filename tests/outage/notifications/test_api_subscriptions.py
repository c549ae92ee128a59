"""Subscribing on the web: a one-time code goes to the contact through the delivery
workers; the right code verifies, wrong, expired and too many are refused and store
nothing but the count of tries."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from outage.db import session_scope
from outage.errors import RateLimited
from outage.grid.models import Customer, Premise
from outage.notifications import selfservice
from outage.notifications.codes import forget_codes
from outage.notifications.enums import DeliveryStatus, SubscriptionAction
from outage.notifications.models import (
    Notification,
    Subscription,
    SubscriptionCode,
    SubscriptionEvent,
)
from outage.notifications.schemas import SubscriptionIn
from outage.notifications.sink import HttpSink
from outage.outbox.enums import EventKind
from outage.settings import Settings

from .conftest import Drain, Grid

CONTACT = "0987 000 444"
PHONE = "+84987000444"


def _account(grid: Grid) -> str:
    return sorted(grid.accounts[grid.fuse])[0]


def _ask(api: TestClient, account: str, **more: str) -> str:
    """Ask for alerts; the handle the code is given back under."""
    answer = api.post(
        "/api/v1/subscriptions", json={"account": account, "contact": CONTACT, **more}
    )
    assert answer.status_code == 202, answer.text
    handle: str = answer.json()["handle"]
    return handle


def _subscription(session: Session, handle: str) -> Subscription:
    code = session.scalars(select(SubscriptionCode).where(SubscriptionCode.handle == handle)).one()
    return session.get_one(Subscription, code.subscription_id)


def _code_sent(sink: HttpSink, drain: Drain) -> str:
    drain()
    [message] = [m for m in sink.received().values() if m["to"] == PHONE][-1:]
    found = re.search(r"\b(\d{6})\b", message["message"])
    assert found is not None, message
    return found[1]


def _count(session: Session, table: type) -> int:
    return session.scalar(select(func.count()).select_from(table)) or 0


def test_the_right_code_verifies_the_subscription(
    api: TestClient, sessions: sessionmaker[Session], sink: HttpSink, drain: Drain, grid: Grid
) -> None:
    account = _account(grid)
    handle = _ask(api, account, language="en")
    with sessions() as session:
        [pending] = session.scalars(select(Notification)).all()
        row = _subscription(session, handle)
    assert pending.kind is EventKind.SUBSCRIPTION_CODE and pending.status is DeliveryStatus.PENDING
    assert row.verified_at is None and row.address == PHONE
    code = _code_sent(sink, drain)
    answer = api.post(f"/api/v1/subscriptions/{handle}/verify", json={"code": code})
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert shown["verified"] and not shown["stopped"] and shown["account"] == account
    assert shown["contact"] != PHONE and shown["contact"].endswith("444")
    with sessions() as session:
        customer = session.scalars(select(Customer).where(Customer.account == account)).one()
        stored = session.scalars(select(SubscriptionCode)).one()
        trail = session.scalars(select(SubscriptionEvent.action).order_by(SubscriptionEvent.id))
        actions = list(trail)
    assert stored.code_hash != code and code not in stored.code_hash
    assert actions == [
        SubscriptionAction.CREATED,
        SubscriptionAction.CODE_SENT,
        SubscriptionAction.VERIFIED,
    ]
    for personal in (customer.name, customer.phone):
        assert personal and personal not in answer.text
    token = shown["token"]
    assert api.get(f"/api/v1/subscriptions/{token}").json()["verified"]


def test_a_wrong_code_is_refused_and_counted_until_the_code_is_spent(
    api: TestClient, sessions: sessionmaker[Session], sink: HttpSink, drain: Drain, grid: Grid
) -> None:
    handle = _ask(api, _account(grid))
    code = _code_sent(sink, drain)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    url = f"/api/v1/subscriptions/{handle}/verify"
    for _ in range(5):
        assert api.post(url, json={"code": wrong}).status_code == 422
    assert api.post(url, json={"code": code}).status_code == 429
    with sessions() as session:
        assert _subscription(session, handle).verified_at is None


def test_an_expired_code_is_refused(
    api: TestClient, sessions: sessionmaker[Session], sink: HttpSink, drain: Drain, grid: Grid
) -> None:
    handle = _ask(api, _account(grid))
    code = _code_sent(sink, drain)
    with session_scope(sessions) as session:
        session.execute(
            update(SubscriptionCode).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    answer = api.post(f"/api/v1/subscriptions/{handle}/verify", json={"code": code})
    assert answer.status_code == 422 and "expired" in answer.json()["detail"]
    with sessions() as session:
        assert _subscription(session, handle).verified_at is None


def test_a_fourth_code_within_the_hour_is_refused_and_stores_nothing(
    api: TestClient, sessions: sessionmaker[Session], grid: Grid
) -> None:
    first, second = sorted(grid.accounts[grid.fuse])[:2]
    handle = _ask(api, first)
    _ask(api, second)
    assert api.post(f"/api/v1/subscriptions/{handle}/code").status_code == 202
    answer = api.post("/api/v1/subscriptions", json={"account": second, "contact": CONTACT})
    assert answer.status_code == 429 and "Retry-After" in answer.headers
    with sessions() as session:
        assert _count(session, SubscriptionCode) == 3
        assert _count(session, Notification) == 3
        assert _count(session, Subscription) == 2


def test_an_unknown_account_or_bad_contact_is_refused_and_stores_nothing(
    api: TestClient, sessions: sessionmaker[Session], grid: Grid
) -> None:
    unknown = api.post("/api/v1/subscriptions", json={"account": "NOPE-1", "contact": CONTACT})
    assert unknown.status_code == 404
    bad = api.post("/api/v1/subscriptions", json={"account": _account(grid), "contact": "12"})
    assert bad.status_code == 422
    both = api.post(
        "/api/v1/subscriptions",
        json={"account": _account(grid), "address": "12 Hang Bai", "contact": CONTACT},
    )
    assert both.status_code == 422
    with sessions() as session:
        assert _count(session, Subscription) == 0 and _count(session, Notification) == 0


def test_a_verified_subscriber_changes_and_stops_it_with_the_token(
    api: TestClient, sessions: sessionmaker[Session], sink: HttpSink, drain: Drain, grid: Grid
) -> None:
    handle = _ask(api, _account(grid))
    code = _code_sent(sink, drain)
    verified = api.post(f"/api/v1/subscriptions/{handle}/verify", json={"code": code})
    url = f"/api/v1/subscriptions/{verified.json()['token']}"
    changed = api.patch(url, json={"language": "en", "quiet_hours": "21:00-06:30"})
    assert changed.status_code == 200
    assert changed.json()["language"] == "en" and changed.json()["quiet_hours"] == "21:00-06:30"
    assert api.patch(url, json={"channel": "email"}).status_code == 422
    stopped = api.delete(url)
    assert stopped.status_code == 200 and stopped.json()["stopped"]
    with sessions() as session:
        actions = list(session.scalars(select(SubscriptionEvent.action)))
    assert SubscriptionAction.CHANGED in actions and SubscriptionAction.STOPPED in actions


def test_an_address_is_followed_as_the_premise_the_geocoder_finds(
    api: TestClient, sessions: sessionmaker[Session], grid: Grid
) -> None:
    with sessions() as session:
        customer = session.scalars(select(Customer).where(Customer.account == _account(grid))).one()
        address = session.get_one(Premise, customer.premise_id).address
    answer = api.post("/api/v1/subscriptions", json={"address": address, "contact": CONTACT})
    assert answer.status_code == 202, answer.text
    with sessions() as session:
        row = _subscription(session, answer.json()["handle"])
    assert row.premise_id == customer.premise_id and row.customer_id is None
    nowhere = api.post("/api/v1/subscriptions", json={"address": "zzz qqq xxx", "contact": CONTACT})
    assert nowhere.status_code == 422


def test_codes_are_forgotten_once_past_their_hour(
    api: TestClient, sessions: sessionmaker[Session], grid: Grid
) -> None:
    _ask(api, _account(grid))
    with session_scope(sessions) as session:
        assert forget_codes(session, before=datetime.now(UTC) - timedelta(hours=1)) == 0
        assert forget_codes(session, before=datetime.now(UTC) + timedelta(seconds=1)) == 1


def test_an_account_may_name_the_address_to_follow(
    api: TestClient, sessions: sessionmaker[Session], grid: Grid
) -> None:
    answer = api.post(
        "/api/v1/subscriptions",
        json={"account": _account(grid), "follow": "address", "contact": CONTACT},
    )
    assert answer.status_code == 202, answer.text
    with sessions() as session:
        customer = session.scalars(select(Customer).where(Customer.account == _account(grid))).one()
        row = _subscription(session, answer.json()["handle"])
    assert row.premise_id == customer.premise_id and row.customer_id is None


def test_asking_again_for_a_followed_account_answers_a_new_handle_not_the_subscription(
    api: TestClient, grid: Grid
) -> None:
    first = _ask(api, _account(grid))
    again = _ask(api, _account(grid))
    assert first != again and len(first) >= 16


def test_a_new_code_replaces_the_older_one(
    api: TestClient, sessions: sessionmaker[Session], sink: HttpSink, drain: Drain, grid: Grid
) -> None:
    handle = _ask(api, _account(grid))
    old = _code_sent(sink, drain)
    api.post(f"/api/v1/subscriptions/{handle}/code")
    answer = api.post(f"/api/v1/subscriptions/{handle}/verify", json={"code": old})
    assert answer.status_code == 422 and "expired" in answer.json()["detail"]


def test_codes_stop_for_everyone_past_the_hourly_total(
    sessions: sessionmaker[Session], grid: Grid
) -> None:
    capped = Settings(subscription_codes_per_hour_total=1)
    asked = [
        SubscriptionIn(account=_account(grid), contact=contact)
        for contact in ("0987 000 551", "0987 000 552")
    ]
    with session_scope(sessions) as session:
        selfservice.request(session, asked[0], capped, datetime.now(UTC))
        with pytest.raises(RateLimited):
            selfservice.request(session, asked[1], capped, datetime.now(UTC))
