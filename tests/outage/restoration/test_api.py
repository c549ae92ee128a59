"""Restoration plans over HTTP: the ranked plans, the order of one, and its refusals."""

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from outage.auth.enums import Role
from tests.conftest import Credentials

from .conftest import TIE, Outage

ORDERS = "/api/v1/switching/orders"


def _plans(client: TestClient, credentials: Credentials, incident_id: int) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/incidents/{incident_id}/restoration-plans",
        headers=credentials.staff(Role.DISPATCHER),
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _order(
    client: TestClient, credentials: Credentials, incident_id: int, version: Any, rank: int = 1
) -> Any:
    return client.post(
        f"/api/v1/incidents/{incident_id}/restoration-plans/{rank}/order",
        json={"network_version": version},
        headers=credentials.staff(Role.DISPATCHER),
    )


def _run(client: TestClient, credentials: Credentials, order: dict[str, Any]) -> dict[str, Any]:
    """Approved by a supervisor, started, and every step carried out."""
    path = f"{ORDERS}/{order['id']}"
    supervisor, dispatcher = credentials.staff(Role.SUPERVISOR), credentials.staff(Role.DISPATCHER)
    assert client.post(f"{path}/approve", headers=supervisor).status_code == 200
    assert client.post(f"{path}/start", headers=dispatcher).status_code == 200
    for step in order["steps"]:
        done = client.post(f"{path}/steps/{step['position']}/execute", headers=dispatcher)
        assert done.status_code == 200, done.text
    answer: dict[str, Any] = done.json()
    return answer


def test_plans_name_each_steps_device_time_and_customers(
    client: TestClient, credentials: Credentials, line_fault: Outage
) -> None:
    found = _plans(client, credentials, line_fault.incident_id)
    best = found["plans"][0]
    assert found["network_version"]["switch"] >= 1 and best["rank"] == 1
    assert {"asset_ref", "action", "remote", "at_seconds", "customers_restored"} <= set(
        best["steps"][0]
    )
    assert best["customers_left_out"] == 0 and best["customer_minutes_saved"] > 0


def test_an_order_is_drafted_once_per_plan_and_runs_as_any_order(
    client: TestClient, credentials: Credentials, line_fault: Outage
) -> None:
    found = _plans(client, credentials, line_fault.incident_id)
    first = _order(client, credentials, line_fault.incident_id, found["network_version"])
    again = _order(client, credentials, line_fault.incident_id, found["network_version"])
    assert first.status_code == 201, first.text
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    order = first.json()
    assert order["state"] == "draft" and order["incident_id"] == line_fault.incident_id
    assert _run(client, credentials, order)["steps"][-1]["state"] == "done"
    incident = client.get(
        f"/api/v1/incidents/{line_fault.incident_id}", headers=credentials.staff()
    ).json()
    assert incident["status"] == "restored"


def test_a_plan_read_before_the_network_changed_is_refused_with_the_reason(
    client: TestClient, credentials: Credentials, line_fault: Outage
) -> None:
    seen = _plans(client, credentials, line_fault.incident_id)["network_version"]
    switched = client.post(
        "/api/v1/grid/operations",
        json={"asset_ref": TIE, "state": "closed", "occurred_at": datetime.now(UTC).isoformat()},
        headers=credentials.staff(Role.DISPATCHER),
    )
    assert switched.status_code == 200, switched.text
    refused = _order(client, credentials, line_fault.incident_id, seen)
    assert refused.status_code == 409 and TIE in refused.json()["detail"]
    orders = client.get(ORDERS, headers=credentials.staff()).json()
    assert all(o["incident_id"] != line_fault.incident_id for o in orders)


def test_a_second_plan_while_the_first_order_is_open_is_refused(
    client: TestClient, credentials: Credentials, line_fault: Outage
) -> None:
    found = _plans(client, credentials, line_fault.incident_id)
    assert _order(client, credentials, line_fault.incident_id, found["network_version"]).is_success
    second = _order(client, credentials, line_fault.incident_id, found["network_version"], rank=2)
    assert second.status_code == 409 and "already has restoration order" in second.text


def test_a_transformer_fault_leaves_its_customers_out(
    client: TestClient, credentials: Credentials, transformer_fault: Outage
) -> None:
    best = _plans(client, credentials, transformer_fault.incident_id)["plans"][0]
    assert 0 < best["customers_left_out"] < transformer_fault.customers
    assert best["customers_restored"] + best["customers_left_out"] == transformer_fault.customers
