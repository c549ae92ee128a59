"""The alerts pages: the subscribe form in either language, linked from the customer
pages; a refused request shows why and stores nothing; an unknown unsubscribe link."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outage.notifications.models import Subscription


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
