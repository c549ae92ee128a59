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


def _code_form(visitor: TestClient, account: str, contact: str) -> str:
    """Ask for alerts; the URL the code form posts to."""
    form = {"account": account, "contact": contact, "language": "en", "lang": "en"}
    asked = visitor.post("/alerts", data=form)
    assert asked.status_code == 200 and "Enter your code" in asked.text
    action = re.search(r'action="(/alerts/[A-Za-z0-9_-]+/verify)"', asked.text)
    assert action is not None
    return action[1]


def _code(database: str, phone: str) -> str:
    with session_factory(database)() as session:
        message = session.scalars(select(Notification).where(Notification.address == phone)).one()
    code = re.search(r"\b(\d{6})\b", message.body)
    assert code is not None
    return code[1]


def _account(sample_grid: GridModel) -> str:
    return next(p.customer.account for p in sample_grid.premises if p.customer)


def test_a_visitor_subscribes_with_the_code_sent_to_the_phone(
    visitor: TestClient, alerts_database: str, sample_grid: GridModel
) -> None:
    action = _code_form(visitor, _account(sample_grid), "0987 000 321")
    code = _code(alerts_database, "+84987000321")
    wrong = visitor.post(action, data={"code": f"{(int(code) + 1) % 10**6:06d}"})
    assert wrong.status_code == 422
    done = visitor.post(action, data={"code": code, "lang": "en"})
    assert done.status_code == 200 and "You will get outage alerts" in done.text
    with session_factory(alerts_database)() as session:
        row = session.scalars(select(Subscription)).one()
    assert row.verified_at is not None and row.address == "+84987000321"


def test_a_subscriber_changes_and_stops_the_alerts_on_their_page(
    visitor: TestClient, alerts_database: str, sample_grid: GridModel
) -> None:
    action = _code_form(visitor, _account(sample_grid), "0987 000 654")
    done = visitor.post(action, data={"code": _code(alerts_database, "+84987000654")})
    link = re.search(r'href="(/alerts/s/[^"?]+)', done.text)
    assert link is not None
    page = visitor.get(link[1], params={"lang": "en"})
    assert page.status_code == 200 and "+84987000654" not in page.text and "654" in page.text
    bad = visitor.post(link[1], data={"language": "en", "quiet_hours": "25:00", "lang": "en"})
    assert bad.status_code == 422
    saved = visitor.post(
        link[1], data={"language": "vi", "quiet_hours": "21:00-06:00", "lang": "en"}
    )
    assert saved.status_code == 200 and 'value="21:00-06:00"' in saved.text
    stopped = visitor.post(f"{link[1]}/stop", params={"lang": "en"})
    assert "gets no more alerts" in stopped.text
