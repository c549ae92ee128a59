"""What agents and dispatchers read: a customer's messages, preferences, an incident's export."""

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from .conftest import Drain, Grid, messages_of


def test_an_agent_reads_a_customers_messages(
    api: TestClient, sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage
) -> None:
    account = sorted(grid.accounts[grid.fuse])[0]
    incident = open_outage(grid.fuse)
    drain()
    answer = api.get("/api/v1/notifications", params={"customer": account})
    assert answer.status_code == 200
    [message] = answer.json()
    assert message["incident_id"] == incident and message["status"] == "sent"
    assert message["kind"] == "outage_detected" and message["address"].startswith("+84")


def test_an_unknown_customer_is_404_and_a_missing_one_422(api: TestClient) -> None:
    assert api.get("/api/v1/notifications", params={"customer": "nobody"}).status_code == 404
    assert api.get("/api/v1/notifications").status_code == 422


def test_preferences_are_replaced_and_read_back(api: TestClient, grid: Grid) -> None:
    account = sorted(grid.accounts[grid.fuse])[0]
    chosen = {"channel": "email", "language": "en", "opt_out": True, "quiet_hours": "21:30-07:00"}
    put = api.put("/api/v1/notifications/preferences", params={"customer": account}, json=chosen)
    assert put.status_code == 200
    read = api.get("/api/v1/notifications/preferences", params={"customer": account}).json()
    assert read == {"account": account, **chosen}
    bad = api.put(
        "/api/v1/notifications/preferences",
        params={"customer": account},
        json={"quiet_hours": "25:00-07:00"},
    )
    assert bad.status_code == 422


def test_the_export_lists_every_message_without_addresses(
    api: TestClient, sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    drain()
    answer = api.get(f"/api/v1/incidents/{incident}/notifications.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    with sessions() as session:
        written = messages_of(session, incident)
    assert sorted(r["account"] for r in rows) == sorted(grid.accounts[grid.fuse])
    assert not any(m.address in answer.text for m in written)
    assert api.get("/api/v1/incidents/999999/notifications.csv").status_code == 404
