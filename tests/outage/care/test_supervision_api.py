"""The supervision routes: giving a request to another owner, the customer's history of
it (behind the same phone check as its status), and every team's view for supervisors."""

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from grid_topology.model import Premise
from outage.auth.enums import Role
from outage.care import owners
from outage.care.models import ServiceRequest, ServiceRequestEvent
from outage.db import session_factory, session_scope
from tests.conftest import username

AGENT = username(Role.AGENT)


def _file(client: TestClient, premise: Premise) -> str:
    assert premise.customer is not None
    body = {"type": "billing_question", "account": premise.customer.account}
    answer = client.post("/api/v1/requests", json=body)
    assert answer.status_code == 201, answer.text
    ticket: str = answer.json()["ticket"]
    return ticket


def _team(database_url: str, members: list[str]) -> str:
    name = f"team-{uuid.uuid4().hex[:8]}"
    with session_scope(session_factory(database_url)) as session:
        owners.save_team(session, name, supervisor=username(Role.SUPERVISOR), members=members)
    return name


def _trail_length(database_url: str, ticket: str) -> int:
    with session_scope(session_factory(database_url)) as session:
        count: int = session.scalar(
            select(func.count())
            .select_from(ServiceRequestEvent)
            .join(ServiceRequest, ServiceRequest.id == ServiceRequestEvent.request_id)
            .where(ServiceRequest.ticket == ticket)
        )
        return count


def _owner(client: TestClient, ticket: str, **body: Any) -> Any:
    return client.post(f"/api/v1/requests/{ticket}/owner", json=body)


def test_the_back_office_gives_a_request_to_a_team_and_its_agent(
    agent_client: TestClient,
    anonymous_client: TestClient,
    grid_database: str,
    care_customer: Premise,
) -> None:
    ticket = _file(anonymous_client, care_customer)
    team = _team(grid_database, [AGENT])
    shown = agent_client.get("/api/v1/requests", params={"limit": 500}).json()
    [row] = [r for r in shown if r["ticket"] == ticket]
    assert (row["team"], row["agent"]) == ("customer-care", None)

    before = _trail_length(grid_database, ticket)
    for body, status, words in [
        ({"team": "no-such-team"}, 422, "no care team"),
        ({"team": team, "agent": "nobody-at-all"}, 422, "no active staff account"),
        ({"team": team, "agent": username(Role.DISPATCHER)}, 422, "not a member"),
        ({"team": "customer-care"}, 409, "already"),
        ({"reason": "no owner named"}, 422, "name the new owner"),
    ]:
        refused = _owner(agent_client, ticket, **body)
        assert refused.status_code == status, refused.text
        assert words in str(refused.json()["detail"])
    assert _trail_length(grid_database, ticket) == before

    moved = _owner(agent_client, ticket, team=team, agent=AGENT.upper(), reason="billing desk")
    assert moved.status_code == 200, moved.text
    assert (moved.json()["team"], moved.json()["agent"]) == (team, AGENT)
    assert _trail_length(grid_database, ticket) == before + 1
    assert _owner(anonymous_client, ticket, team=team).status_code in (401, 403)
    assert _owner(agent_client, "260101-ZZZZZZ", team=team).status_code == 404

    agent_client.patch(f"/api/v1/requests/{ticket}", json={"state": "rejected", "reason": "dup"})
    closed = _owner(agent_client, ticket, team="customer-care")
    assert closed.status_code == 409 and "closed" in closed.json()["detail"]


def test_the_history_needs_the_requesters_phone_and_shows_no_staff_or_notes(
    agent_client: TestClient,
    anonymous_client: TestClient,
    grid_database: str,
    care_customer: Premise,
) -> None:
    assert care_customer.customer is not None
    digits = care_customer.customer.phone[-4:]
    ticket = _file(anonymous_client, care_customer)
    team = _team(grid_database, [AGENT])
    agent_client.patch(
        f"/api/v1/requests/{ticket}", json={"state": "in_progress", "reason": "a staff note"}
    )
    _owner(agent_client, ticket, team=team, agent=AGENT, reason="a private reason")
    url = f"/api/v1/requests/{ticket}/history"

    missing = anonymous_client.get(url)
    assert missing.status_code == 403 and "phone_last4" in missing.json()["detail"]
    wrong = "0000" if digits != "0000" else "1111"
    assert anonymous_client.get(url, params={"phone_last4": wrong}).status_code == 403
    assert anonymous_client.get("/api/v1/requests/260101-ZZZZZZ/history").status_code == 404

    shown = anonymous_client.get(url, params={"phone_last4": digits})
    assert shown.status_code == 200, shown.text
    steps = [(e["step"], e["state"], e["team"]) for e in shown.json()["entries"]]
    assert steps == [
        ("received", "received", None),
        ("assigned", None, "customer-care"),
        ("state", "in_progress", None),
        ("assigned", None, team),
    ]
    for secret in (
        "a staff note",
        "a private reason",
        AGENT,
        username(Role.SUPERVISOR),
        care_customer.customer.phone,
        care_customer.customer.account,
    ):
        assert secret not in shown.text
    assert agent_client.get(url).status_code == 200  # the back office needs no digits


def test_supervisors_see_every_teams_view_and_customers_do_not(
    supervisor_client: TestClient, anonymous_client: TestClient, agent_client: TestClient
) -> None:
    shown = supervisor_client.get("/api/v1/care/teams")
    assert shown.status_code == 200, shown.text
    assert "customer-care" in {v["team"] for v in shown.json()}
    assert anonymous_client.get("/api/v1/care/teams").status_code in (401, 403)
    assert agent_client.get("/api/v1/care/teams").status_code == 403
