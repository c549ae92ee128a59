"""Every state change by staff goes to the audit log with the actor; reads and refusals
do not, nor do customers' reports."""

import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from outage.auth.enums import Role
from tests.conftest import Credentials


def _entries(query: Callable[..., list[Any]], path: str, after: int = 0) -> list[Any]:
    """The log's entries for a path, those after entry `after` only."""
    return query(
        "SELECT actor, actor_kind, action, method, status FROM audit_log"
        " WHERE path = :p AND id > :after ORDER BY id",
        p=path,
        after=after,
    )


def _last_entry(query: Callable[..., list[Any]]) -> int:
    [row] = query("SELECT coalesce(max(id), 0) AS last FROM audit_log")
    return int(row.last)


def test_a_staff_change_is_logged_with_the_actor(
    anyone: TestClient, auth_credentials: Credentials, query: Callable[..., list[Any]]
) -> None:
    ticket = anyone.post(
        "/api/v1/reports", json={"address": f"gate {uuid.uuid4().hex[:6]}, no such street"}
    ).json()["ticket"]
    path = f"/api/v1/reports/{ticket}/placement"
    [premise] = query("SELECT ref FROM premises ORDER BY id LIMIT 1")
    agent = auth_credentials.staff(Role.AGENT)
    refused = anyone.post(path, json={"premise": "no-such-premise"}, headers=agent)
    assert refused.status_code == 422
    placed = anyone.post(path, json={"premise": premise.ref}, headers=agent)
    assert placed.status_code == 200, placed.text
    assert [tuple(e) for e in _entries(query, path)] == [
        ("test-agent", "staff", "reports.place", "POST", 200)
    ]


def test_reads_refusals_and_customers_are_not_logged(
    anyone: TestClient, auth_credentials: Credentials, query: Callable[..., list[Any]]
) -> None:
    # Other tests of the package change incidents and file reports as staff, before or after.
    before = _last_entry(query)
    anyone.get("/api/v1/incidents", headers=auth_credentials.staff(Role.SUPERVISOR))
    anyone.patch(
        "/api/v1/incidents/424242",
        json={"action": "set_cause", "cause": "x"},
        headers=auth_credentials.staff(Role.SUPERVISOR),
    )
    answer = anyone.post("/api/v1/reports", json={"address": "x street 1"})
    ticket = answer.json()["ticket"]
    assert _entries(query, "/api/v1/incidents", before) == []
    assert _entries(query, "/api/v1/incidents/424242", before) == []
    assert _entries(query, "/api/v1/reports", before) == []
    assert ticket


def test_an_incident_action_names_the_actor_in_both_trails(
    anyone: TestClient,
    auth_credentials: Credentials,
    query: Callable[..., list[Any]],
    hazard_incident: int,
) -> None:
    path = f"/api/v1/incidents/{hazard_incident}"
    answer = anyone.patch(
        path,
        json={"action": "set_cause", "cause": "kite in the line"},
        headers=auth_credentials.staff(Role.DISPATCHER),
    )
    assert answer.status_code == 200, answer.text
    [entry] = _entries(query, path)
    assert (entry.actor, entry.action) == ("test-dispatcher", "incidents.act")
    [event] = query(
        "SELECT actor FROM incident_events WHERE incident_id = :i AND action = 'cause_set'",
        i=hazard_incident,
    )
    assert event.actor == "test-dispatcher"
