"""The alerts pages: the subscribe form in either language, linked from the customer
pages; a refused request shows why and stores nothing; an unknown unsubscribe link."""

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grid_topology.model import GridModel
from outage.app import create_app
from outage.db import session_factory
from outage.notifications.models import Notification, Subscription
from tests.conftest import own_database


@pytest.fixture(scope="module")
def alerts_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    """A database of its own: the codes these tests ask for wait there for no worker."""
    with own_database(database_url, "outage_alerts", sample_grid) as url:
        yield url


@pytest.fixture(scope="module")
def visitor(alerts_database: str) -> Iterator[TestClient]:
    with TestClient(create_app(alerts_database)) as client:
        yield client


@pytest.mark.parametrize(("lang", "title"), [("vi", "Nhận tin mất điện"), ("en", "Outage alerts")])
def test_the_form_speaks_the_language_asked(
    anonymous_client: TestClient, lang: str, title: str
) -> None:
    page = anonymous_client.get("/alerts", params={"lang": lang})
    assert page.status_code == 200 and title in page.text
    assert page.headers["cache-control"] == "no-store"


def test_the_customer_pages_link_to_the_alerts(anonymous_client: TestClient) -> None:
    page = anonymous_client.get("/report", params={"lang": "en"})
    assert 'href="/alerts?lang=en"' in page.text


def _subscriptions(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Subscription)) or 0


def test_an_unknown_account_is_shown_and_nothing_stored(
    anonymous_client: TestClient, session: Session
) -> None:
    before = _subscriptions(session)
    page = anonymous_client.post(
        "/alerts", data={"account": "NO-SUCH-77", "contact": "0912 000 777", "lang": "en"}
    )
    assert page.status_code == 404 and "No customer has that account number" in page.text
    assert 'value="NO-SUCH-77"' in page.text
    assert _subscriptions(session) == before


def test_a_contact_that_is_neither_phone_nor_email_is_refused(
    anonymous_client: TestClient, session: Session
) -> None:
    before = _subscriptions(session)
    page = anonymous_client.post(
        "/alerts", data={"address": "<b>12 Hang Bai</b>", "contact": "xyz", "lang": "en"}
    )
    assert page.status_code == 422 and "<b>12" not in page.text
    assert _subscriptions(session) == before


def test_an_unknown_unsubscribe_link_is_a_404_page(anonymous_client: TestClient) -> None:
    page = anonymous_client.get("/u/not-a-token", params={"lang": "en"})
    assert page.status_code == 404 and "no longer valid" in page.text


def test_a_visitor_subscribes_with_the_code_sent_to_the_phone(
    visitor: TestClient, alerts_database: str, sample_grid: GridModel
) -> None:
    account = next(p.customer.account for p in sample_grid.premises if p.customer)
    form = {"account": account, "contact": "0987 000 321", "language": "en", "lang": "en"}
    asked = visitor.post("/alerts", data=form)
    assert asked.status_code == 200 and "Enter your code" in asked.text
    action = re.search(r'action="(/alerts/\d+/verify)"', asked.text)
    assert action is not None
    with session_factory(alerts_database)() as session:
        message = session.scalars(select(Notification)).one()
    code = re.search(r"\b(\d{6})\b", message.body)
    assert code is not None and message.address == "+84987000321"
    wrong = visitor.post(action[1], data={"code": f"{(int(code[1]) + 1) % 10**6:06d}"})
    assert wrong.status_code == 422
    done = visitor.post(action[1], data={"code": code[1], "lang": "en"})
    assert done.status_code == 200 and "You will get outage alerts" in done.text
    with session_factory(alerts_database)() as session:
        assert session.scalars(select(Subscription)).one().verified_at is not None
