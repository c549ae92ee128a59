"""An agent adds a contact the caller gives to their account's alerts (verified by the
agent, audited with the agent's name), and stops one."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from outage.db import session_factory, session_scope
from outage.notifications.enums import SubscriptionAction
from outage.notifications.models import SubscriptionEvent


@pytest.fixture
def account(grid_database: str) -> Iterator[str]:
    """A customer's account; the contacts added to it are stopped afterwards, so no
    outage another suite opens sends them anything."""
    with session_scope(session_factory(grid_database)) as session:
        found = session.scalar(
            text("SELECT account FROM customers ORDER BY id DESC OFFSET 3 LIMIT 1")
        )
    yield str(found)
    with session_scope(session_factory(grid_database)) as session:
        session.execute(
            text(
                "UPDATE subscriptions SET stopped_at = now() WHERE stopped_at IS NULL"
                " AND customer_id = (SELECT id FROM customers WHERE account = :account)"
            ),
            {"account": found},
        )


def _trail(grid_database: str, subscription_id: int) -> list[tuple[SubscriptionAction, str, str]]:
    with session_factory(grid_database)() as session:
        rows = session.execute(
            select(SubscriptionEvent.action, SubscriptionEvent.actor, SubscriptionEvent.via)
            .where(SubscriptionEvent.subscription_id == subscription_id)
            .order_by(SubscriptionEvent.id)
        )
        return [(row.action, row.actor, row.via) for row in rows]


def test_an_agent_adds_the_callers_contact_verified_and_audited(
    agent_client: TestClient, grid_database: str, account: str
) -> None:
    url = f"/api/v1/agent/customers/{account}/contacts"
    body = {"channel": "email", "contact": "Con.Gai@Example.com", "language": "en"}
    added = agent_client.post(url, json=body)
    assert added.status_code == 201, added.text
    contact = added.json()
    assert contact["address"] == "con.gai@example.com" and contact["verified"]
    assert contact["source"] == "agent"
    again = agent_client.post(url, json=body)
    assert again.json()["id"] == contact["id"]
    assert contact["id"] in [c["id"] for c in agent_client.get(url).json()]
    assert _trail(grid_database, contact["id"]) == [
        (SubscriptionAction.CREATED, "test-agent", "agent"),
        (SubscriptionAction.VERIFIED, "test-agent", "agent"),
    ]


def test_an_agent_stops_a_contact(
    agent_client: TestClient, grid_database: str, account: str
) -> None:
    url = f"/api/v1/agent/customers/{account}/contacts"
    added = agent_client.post(url, json={"contact": "0987 000 666"}).json()
    stopped = agent_client.delete(f"/api/v1/agent/contacts/{added['id']}")
    assert stopped.status_code == 200 and stopped.json()["stopped"]
    assert _trail(grid_database, added["id"])[-1] == (
        SubscriptionAction.STOPPED,
        "test-agent",
        "agent",
    )
    assert agent_client.delete("/api/v1/agent/contacts/999999999").status_code == 404


def test_a_contact_for_an_unknown_account_or_a_bad_phone_is_refused(
    agent_client: TestClient, account: str
) -> None:
    url = f"/api/v1/agent/customers/{account}/contacts"
    before = agent_client.get(url).json()
    unknown = agent_client.post(
        "/api/v1/agent/customers/NOPE-3/contacts", json={"contact": "0987000666"}
    )
    assert unknown.status_code == 404
    bad = agent_client.post(url, json={"contact": "123"})
    assert bad.status_code == 422
    assert agent_client.get(url).json() == before
