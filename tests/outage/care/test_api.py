"""The care API: customers file, follow and rate requests; the back office works them."""

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from grid_topology.model import Premise
from outage.db import session_factory, session_scope
from outage.grid.models import Customer
from outage.intake.enums import Channel, MatchMethod, ReportOutcome, ReportStatus
from outage.intake.models import Report

PERSONAL = ("phone", "email", "account", "address", "description", "name", "premise")


def _file(client: TestClient, premise: Premise, **extra: Any) -> dict[str, Any]:
    assert premise.customer is not None
    body = {"type": "billing_question", "account": premise.customer.account, **extra}
    answer = client.post("/api/v1/requests", json=body)
    assert answer.status_code == 201, answer.text
    receipt: dict[str, Any] = answer.json()
    return receipt


def _move(client: TestClient, ticket: str, state: str, reason: str | None = None) -> Any:
    return client.patch(f"/api/v1/requests/{ticket}", json={"state": state, "reason": reason})


def test_a_customer_files_a_request_and_follows_it_with_their_phone_digits(
    anonymous_client: TestClient, care_customer: Premise
) -> None:
    assert care_customer.customer is not None
    receipt = _file(anonymous_client, care_customer, description="why so high this month?")
    assert (receipt["type"], receipt["state"]) == ("billing_question", "received")
    url = f"/api/v1/requests/{receipt['ticket']}"
    digits = care_customer.customer.phone[-4:]

    shown = anonymous_client.get(url, params={"phone_last4": digits})
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["ticket"] == receipt["ticket"] and body["due_at"] == receipt["due_at"]
    assert not set(body) & set(PERSONAL), "nothing personal, not even the customer's own"
    assert care_customer.customer.account not in shown.text

    missing = anonymous_client.get(url)
    assert missing.status_code == 403 and "phone_last4" in missing.json()["detail"]
    wrong = "0000" if digits != "0000" else "1111"
    assert anonymous_client.get(url, params={"phone_last4": wrong}).status_code == 403
    assert anonymous_client.get("/api/v1/requests/260101-ZZZZZZ").status_code == 404


def test_a_request_without_a_phone_to_check_stays_private(anonymous_client: TestClient) -> None:
    answer = anonymous_client.post(
        "/api/v1/requests",
        json={"type": "new_connection", "address": "a plot with no house yet, hamlet 4"},
    )
    assert answer.status_code == 201
    ticket = answer.json()["ticket"]
    refused = anonymous_client.get(f"/api/v1/requests/{ticket}", params={"phone_last4": "1234"})
    assert refused.status_code == 403
    assert f"/request/{ticket}" in refused.json()["detail"]


def test_bad_requests_are_refused_with_a_reason(anonymous_client: TestClient) -> None:
    for body, words in (
        ({"type": "a_pony", "address": "x"}, "type"),
        ({"type": "meter_check"}, "who or where"),
        ({"type": "meter_check", "phone": "12"}, "phone"),
        ({"type": "meter_check", "address": "x", "details": {"k": [1]}}, "details"),
    ):
        answer = anonymous_client.post("/api/v1/requests", json=body)
        assert answer.status_code == 422, body
        assert words in answer.text, answer.text


def test_a_retry_with_the_same_key_is_one_request(
    anonymous_client: TestClient, care_customer: Premise
) -> None:
    assert care_customer.customer is not None
    body = {"type": "meter_check", "account": care_customer.customer.account}
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = anonymous_client.post("/api/v1/requests", json=body, headers=headers)
    again = anonymous_client.post("/api/v1/requests", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["ticket"] == again.json()["ticket"]
    other = anonymous_client.post(
        "/api/v1/requests", json={**body, "description": "another"}, headers=headers
    )
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]


def test_the_back_office_moves_a_request_and_refuses_wrong_moves(
    agent_client: TestClient, anonymous_client: TestClient, care_customer: Premise
) -> None:
    ticket = _file(anonymous_client, care_customer)["ticket"]
    assert _move(agent_client, ticket, "done").status_code == 409
    taken = _move(agent_client, ticket, "in_progress")
    assert taken.status_code == 200, taken.text
    assert taken.json()["account"] == care_customer.customer.account  # type: ignore[union-attr]
    assert _move(agent_client, ticket, "waiting_for_customer").status_code == 200
    no_reason = _move(agent_client, ticket, "rejected")
    assert no_reason.status_code == 409 and "reason" in no_reason.json()["detail"]
    assert _move(agent_client, ticket, "in_progress").status_code == 200
    assert _move(agent_client, ticket, "done").status_code == 200
    assert _move(agent_client, ticket, "in_progress").status_code == 409
    assert _move(agent_client, ticket, "closed").status_code == 422
    assert _move(agent_client, "260101-ZZZZZZ", "in_progress").status_code == 404


def test_the_queue_filters_by_type_state_and_breach(
    agent_client: TestClient, anonymous_client: TestClient, care_customer: Premise
) -> None:
    ticket = _file(anonymous_client, care_customer, type="meter_relocation")["ticket"]
    by_type = agent_client.get("/api/v1/requests", params={"type": "meter_relocation"})
    assert by_type.status_code == 200
    assert ticket in {r["ticket"] for r in by_type.json()}
    assert {r["type"] for r in by_type.json()} == {"meter_relocation"}
    not_late = agent_client.get(
        "/api/v1/requests", params={"type": "meter_relocation", "breached": "false"}
    ).json()
    late = agent_client.get(
        "/api/v1/requests", params={"type": "meter_relocation", "breached": "true"}
    ).json()
    assert ticket in {r["ticket"] for r in not_late} and ticket not in {r["ticket"] for r in late}
    _move(agent_client, ticket, "rejected", "the meter may not move there")
    rejected = agent_client.get("/api/v1/requests", params={"state": "rejected", "limit": 500})
    assert ticket in {r["ticket"] for r in rejected.json()}
    assert ticket not in {r["ticket"] for r in agent_client.get("/api/v1/requests").json()}


def test_the_customer_rates_a_closed_request_once(
    agent_client: TestClient, anonymous_client: TestClient, care_customer: Premise
) -> None:
    assert care_customer.customer is not None
    digits = care_customer.customer.phone[-4:]
    ticket = _file(anonymous_client, care_customer)["ticket"]
    url = f"/api/v1/requests/{ticket}/rating"
    rating = {"rating": 5, "comment": "sorted in a day", "phone_last4": digits}
    early = anonymous_client.post(url, json=rating)
    assert early.status_code == 409 and "done" in early.json()["detail"]
    _move(agent_client, ticket, "in_progress")
    _move(agent_client, ticket, "done")
    assert anonymous_client.post(url, json={**rating, "phone_last4": None}).status_code == 403
    assert anonymous_client.post(url, json={**rating, "rating": 6}).status_code == 422
    rated = anonymous_client.post(url, json=rating)
    assert rated.status_code == 200, rated.text
    assert (rated.json()["rating"], rated.json()["can_rate"]) == (5, False)
    again = anonymous_client.post(url, json={**rating, "rating": 1})
    assert again.status_code == 409 and "already" in again.json()["detail"]


def _closed_inside(database_url: str, premise: Premise) -> str:
    """A customer's report closed because their meter had power: its ticket."""
    assert premise.customer is not None
    with session_scope(session_factory(database_url)) as session:
        customer = session.scalars(
            select(Customer).where(Customer.account == premise.customer.account)
        ).one()
        report = Report(
            ticket=f"T-{uuid.uuid4().hex[:8].upper()}",
            channel=Channel.SMS,
            status=ReportStatus.CLOSED,
            outcome=ReportOutcome.INSIDE_PREMISE,
            match_method=MatchMethod.ACCOUNT,
            customer_id=customer.id,
            premise_id=customer.premise_id,
            phone=customer.phone,
            candidates=[],
        )
        session.add(report)
        session.flush()
        return report.ticket


def test_the_care_centre_files_a_reports_service_visit_once(
    client: TestClient, grid_database: str, care_customer: Premise
) -> None:
    ticket = _closed_inside(grid_database, care_customer)
    first = client.post(f"/api/v1/reports/{ticket}/visit")
    again = client.post(f"/api/v1/reports/{ticket}/visit")
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["type"] == "connection_check"
    assert again.json()["ticket"] == first.json()["ticket"]


def test_a_visit_for_an_unknown_report_is_404(client: TestClient) -> None:
    assert client.post("/api/v1/reports/T-NOPE/visit").status_code == 404
