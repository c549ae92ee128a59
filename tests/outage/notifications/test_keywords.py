"""Subscribing a phone to an account's alerts by SMS, and stopping them, in Vietnamese
(with or without accents) and English, through the SMS webhook."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from outage.grid.models import Customer
from outage.i18n import Language
from outage.notifications.enums import SubscriptionAction, SubscriptionSource
from outage.notifications.models import (
    NotificationPreference,
    Subscription,
    SubscriptionEvent,
)

from .conftest import Grid

PHONE = "+84987000333"


def _sms(api: TestClient, text: str, sender: str = "0987 000 333") -> str:
    answer = api.post("/api/v1/channels/sms", json={"from": sender, "text": text})
    assert answer.status_code == 200, answer.text
    reply: str = answer.json()["reply"]
    return reply


def _account(grid: Grid, index: int = 0) -> str:
    return sorted(grid.accounts[grid.fuse])[index]


def _subscriptions(session: Session) -> list[Subscription]:
    return list(session.scalars(select(Subscription).order_by(Subscription.id)))


@pytest.mark.parametrize("keyword", ["ĐĂNG KÝ", "Đăng ký", "dang ky", "DANGKY"])
def test_a_vietnamese_dangky_subscribes_the_sending_phone(
    api: TestClient, sessions: sessionmaker[Session], grid: Grid, keyword: str
) -> None:
    account = _account(grid)
    reply = _sms(api, f"{keyword} {account}")
    assert reply.startswith("Dien luc") and account in reply
    with sessions() as session:
        [row] = _subscriptions(session)
        trail = session.scalars(
            select(SubscriptionEvent).where(SubscriptionEvent.subscription_id == row.id)
        ).all()
    assert row.address == PHONE and row.language is Language.VI
    assert row.verified_at is not None and row.stopped_at is None
    assert row.source is SubscriptionSource.SMS
    assert [(e.action, e.actor, e.via) for e in trail] == [
        (SubscriptionAction.CREATED, "contact", "sms"),
        (SubscriptionAction.VERIFIED, "contact", "sms"),
    ]


def test_an_english_reg_subscribes_in_english_once(
    api: TestClient, sessions: sessionmaker[Session], grid: Grid
) -> None:
    account = _account(grid)
    first = _sms(api, f"REG {account}")
    again = _sms(api, f"reg {account}")
    assert first == again and first.startswith("Power company")
    with sessions() as session:
        [row] = _subscriptions(session)
    assert row.language is Language.EN


@pytest.mark.parametrize("keyword", ["HỦY", "huy", "STOP"])
def test_a_stop_keyword_stops_every_subscription_of_the_phone(
    api: TestClient, sessions: sessionmaker[Session], grid: Grid, keyword: str
) -> None:
    _sms(api, f"DANGKY {_account(grid, 0)}")
    _sms(api, f"DANGKY {_account(grid, 1)}")
    reply = _sms(api, keyword)
    assert "DANGKY" in reply or "REG" in reply
    with sessions() as session:
        rows = _subscriptions(session)
    assert len(rows) == 2 and all(row.stopped_at is not None for row in rows)


def test_a_stop_with_an_account_stops_only_that_one(
    api: TestClient, sessions: sessionmaker[Session], grid: Grid
) -> None:
    _sms(api, f"DANGKY {_account(grid, 0)}")
    _sms(api, f"DANGKY {_account(grid, 1)}")
    _sms(api, f"huy {_account(grid, 1)}")
    with sessions() as session:
        first, second = _subscriptions(session)
    assert first.stopped_at is None and second.stopped_at is not None


def test_a_stop_from_the_customers_own_phone_stops_their_own_contact(
    api: TestClient, sessions: sessionmaker[Session], grid: Grid
) -> None:
    account = _account(grid)
    with sessions() as session:
        customer = session.scalars(select(Customer).where(Customer.account == account)).one()
    assert customer.phone is not None
    _sms(api, "STOP", sender=customer.phone)
    with sessions() as session:
        chosen = session.get_one(NotificationPreference, customer.id)
        audited = session.scalar(
            select(SubscriptionEvent.action).where(SubscriptionEvent.customer_id == customer.id)
        )
    assert chosen.opt_out and chosen.stopped_at is not None
    assert audited is SubscriptionAction.STOPPED
    read = api.get("/api/v1/notifications/preferences", params={"customer": account})
    assert read.json()["opt_out"] is True
    _sms(api, f"DANGKY {account}", sender=customer.phone)
    with sessions() as session:
        resumed = session.get_one(NotificationPreference, customer.id)
        assert resumed.stopped_at is None and not resumed.opt_out
        assert _subscriptions(session) == []


def test_an_unknown_account_is_answered_and_nothing_is_stored(
    api: TestClient, sessions: sessionmaker[Session]
) -> None:
    reply = _sms(api, "DANGKY NO-SUCH-9")
    assert "NO-SUCH-9" in reply
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 0
        assert session.scalar(select(func.count()).select_from(SubscriptionEvent)) == 0


@pytest.mark.parametrize("words", ["Hủy đăng ký", "huy dang ky", "STOP REG"])
def test_huy_dang_ky_stops_every_subscription_of_the_phone(
    api: TestClient, sessions: sessionmaker[Session], grid: Grid, words: str
) -> None:
    _sms(api, f"DANGKY {_account(grid, 0)}")
    _sms(api, words)
    with sessions() as session:
        [row] = _subscriptions(session)
    assert row.stopped_at is not None


def test_a_message_to_someone_called_huy_is_not_a_stop(
    api: TestClient, sessions: sessionmaker[Session], grid: Grid
) -> None:
    _sms(api, f"DANGKY {_account(grid, 0)}")
    reply = _sms(api, "Huy oi nha toi mat dien")
    with sessions() as session:
        [row] = _subscriptions(session)
    assert row.stopped_at is None
    assert "DANGKY" not in reply
