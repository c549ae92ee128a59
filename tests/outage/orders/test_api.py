"""Switching orders over HTTP: drafting and its refusals, approval, steps in turn, and
orders that would hold the same device."""

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Network, Topology
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.grid.models import Customer
from outage.incidents.changes import open_incident
from outage.incidents.enums import IncidentKind
from outage.intake.enums import Hazard
from tests.conftest import Credentials

from .conftest import ORDERS, Feeders, Orders, ok


def _post(
    client: TestClient,
    credentials: Credentials,
    path: str,
    role: Role = Role.DISPATCHER,
    **body: Any,
) -> Any:
    return client.post(path, json=body or None, headers=credentials.staff(role))


def test_a_draft_is_checked_at_once(feeders: Feeders, orders: Orders) -> None:
    order = orders.draft(("open", feeders.head), ("close", feeders.tie))
    assert order["state"] == "draft" and order["created_by"] == "test-dispatcher"
    assert [s["position"] for s in order["steps"]] == [1, 2]
    check = order["check"]
    assert check["ok"] and check["interrupted"] > 0
    assert check["restored"] == check["interrupted"] and check["without_supply_after"] == 0


def test_an_unknown_device_is_refused_with_the_step(
    client: TestClient, credentials: Credentials
) -> None:
    body = {"title": "t", "steps": [{"action": "open", "asset_ref": "no such device"}]}
    response = _post(client, credentials, ORDERS, **body)
    assert response.status_code == 422
    assert "step 1: unknown device" in response.json()["detail"]


def test_a_line_section_cannot_be_opened(
    client: TestClient, credentials: Credentials, sample_grid: GridModel
) -> None:
    line = next(d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.LINE)
    body = {"title": "t", "steps": [{"action": "open", "asset_ref": line}]}
    response = _post(client, credentials, ORDERS, **body)
    assert response.status_code == 422 and "cannot be opened or closed" in response.text


def test_a_loop_without_the_flag_is_refused_with_the_reason(
    client: TestClient, credentials: Credentials, feeders: Feeders
) -> None:
    body = {"title": "t", "steps": [{"action": "close", "asset_ref": feeders.tie}]}
    response = _post(client, credentials, ORDERS, **body)
    assert response.status_code == 422
    assert "loop" in response.json()["detail"] and feeders.tie in response.json()["detail"]


def test_a_loop_with_the_flag_is_drafted_and_reported(feeders: Feeders, orders: Orders) -> None:
    order = orders.draft(("close", feeders.tie), allow_loops=True)
    assert order["check"]["loops"] == [1] and order["check"]["ok"]


def test_the_drafter_may_not_approve_their_own_order(
    client: TestClient, credentials: Credentials, switches: list[str], orders: Orders
) -> None:
    order = orders.draft(("verify", switches[0]))
    response = _post(client, credentials, f"{ORDERS}/{order['id']}/approve")
    assert response.status_code == 403 and "another person" in response.text


def test_a_stale_version_is_refused(
    client: TestClient, credentials: Credentials, switches: list[str], orders: Orders
) -> None:
    order = orders.draft(("verify", switches[0]))
    path = f"{ORDERS}/{order['id']}/approve"
    response = _post(client, credentials, path, Role.SUPERVISOR, expected_version=99)
    assert response.status_code == 409 and "version" in response.text


def test_an_order_is_carried_out_step_by_step_and_completed(
    client: TestClient, credentials: Credentials, switches: list[str], orders: Orders
) -> None:
    switch = switches[1]
    order = orders.started(("open", switch), ("close", switch))
    assert order["state"] == "in_progress"
    done = ok(_post(client, credentials, f"{ORDERS}/{order['id']}/steps/1/execute"))
    assert done["steps"][0]["state"] == "done"
    assert done["steps"][0]["executed_by"] == "test-dispatcher"
    abnormal = ok(client.get("/api/v1/grid/abnormal", headers=credentials.staff()))
    listed = next(d for d in abnormal if d["asset_ref"] == switch)
    assert (listed["source"], listed["reason"]) == ("order", f"order {order['id']} step 1")
    ok(_post(client, credentials, f"{ORDERS}/{order['id']}/steps/2/execute"))
    completed = ok(_post(client, credentials, f"{ORDERS}/{order['id']}/complete"))
    assert completed["state"] == "completed"


def test_a_step_before_the_one_ahead_of_it_is_refused(
    client: TestClient, credentials: Credentials, switches: list[str], orders: Orders
) -> None:
    switch = switches[2]
    order = orders.started(("open", switch), ("close", switch))
    response = _post(client, credentials, f"{ORDERS}/{order['id']}/steps/2/execute")
    assert response.status_code == 409 and "step 1" in response.json()["detail"]
    unchanged = ok(client.get(f"{ORDERS}/{order['id']}", headers=credentials.staff()))
    assert {s["state"] for s in unchanged["steps"]} == {"pending"}
    orders.abort(order)


def test_an_order_with_steps_left_cannot_complete(
    client: TestClient, credentials: Credentials, switches: list[str], orders: Orders
) -> None:
    order = orders.started(("verify", switches[3]))
    response = _post(client, credentials, f"{ORDERS}/{order['id']}/complete")
    assert response.status_code == 409 and "not done" in response.text
    orders.abort(order)


def test_a_second_order_on_a_held_device_is_refused_naming_the_first(
    client: TestClient, credentials: Credentials, switches: list[str], orders: Orders
) -> None:
    first = orders.draft(("verify", switches[4]))
    second = orders.draft(("tag", switches[4]))
    orders.approve(first)
    response = _post(client, credentials, f"{ORDERS}/{second['id']}/approve", Role.SUPERVISOR)
    assert response.status_code == 409
    assert f"order {first['id']}" in response.json()["detail"]
    orders.abort(first)
    orders.approve(second)


def test_a_draft_is_not_started(
    client: TestClient, credentials: Credentials, switches: list[str], orders: Orders
) -> None:
    order = orders.draft(("verify", switches[5]))
    response = _post(client, credentials, f"{ORDERS}/{order['id']}/start")
    assert response.status_code == 409 and "draft" in response.text


def test_a_crew_confirms_only_its_own_crews_orders(
    client: TestClient, credentials: Credentials, switches: list[str], orders: Orders
) -> None:
    order = orders.started(("verify", switches[6]))
    response = _post(client, credentials, f"{ORDERS}/{order['id']}/steps/1/execute", Role.CREW)
    assert response.status_code == 403 and "your crew" in response.text


def test_a_crew_confirms_a_step_of_its_crews_order(
    client: TestClient, credentials: Credentials, switches: list[str], orders: Orders
) -> None:
    order = orders.started(("verify", switches[7]), crew_id=credentials.crew_id)
    done = ok(_post(client, credentials, f"{ORDERS}/{order['id']}/steps/1/execute", Role.CREW))
    assert done["steps"][0]["executed_by"] == "test-crew"


def test_a_crew_may_not_start_an_order(
    client: TestClient, credentials: Credentials, switches: list[str], orders: Orders
) -> None:
    order = orders.draft(("verify", switches[8]), crew_id=credentials.crew_id)
    orders.approve(order)
    response = _post(client, credentials, f"{ORDERS}/{order['id']}/start", Role.CREW)
    assert response.status_code == 403


def test_an_agent_may_not_draft(
    client: TestClient, credentials: Credentials, switches: list[str]
) -> None:
    body = {"title": "t", "steps": [{"action": "verify", "asset_ref": switches[0]}]}
    assert _post(client, credentials, ORDERS, Role.AGENT, **body).status_code == 403


def test_a_make_before_break_transfer_runs_when_loops_are_allowed(
    client: TestClient, credentials: Credentials, feeders: Feeders, orders: Orders
) -> None:
    steps = [
        ("close", feeders.tie),
        ("open", feeders.head),
        ("close", feeders.head),
        ("open", feeders.tie),
    ]
    order = orders.started(*steps, allow_loops=True)
    for position in range(1, 5):
        ok(_post(client, credentials, f"{ORDERS}/{order['id']}/steps/{position}/execute"))
    abnormal = ok(client.get("/api/v1/grid/abnormal", headers=credentials.staff()))
    assert {feeders.tie, feeders.head}.isdisjoint(d["asset_ref"] for d in abnormal)


def test_an_unknown_crew_is_refused(
    client: TestClient, credentials: Credentials, switches: list[str]
) -> None:
    body = {"title": "t", "crew_id": 999999, "steps": [{"action": "tag", "asset_ref": switches[0]}]}
    response = _post(client, credentials, ORDERS, **body)
    assert response.status_code == 422 and "no crew 999999" in response.text


def test_editing_a_draft_replaces_its_steps_and_checks_it_again(
    client: TestClient, credentials: Credentials, feeders: Feeders, orders: Orders
) -> None:
    order = orders.draft(("verify", feeders.head))
    body = {
        "expected_version": order["version"],
        "steps": [{"action": "open", "asset_ref": feeders.head}],
    }
    edited = ok(
        client.patch(
            f"{ORDERS}/{order['id']}", json=body, headers=credentials.staff(Role.DISPATCHER)
        )
    )
    assert [s["action"] for s in edited["steps"]] == ["open"]
    assert edited["check"]["interrupted"] > 0 and edited["version"] > order["version"]


def test_an_approved_order_is_not_edited(
    client: TestClient, credentials: Credentials, switches: list[str], orders: Orders
) -> None:
    order = orders.draft(("verify", switches[9]))
    orders.approve(order)
    response = client.patch(
        f"{ORDERS}/{order['id']}", json={"title": "x"}, headers=credentials.staff(Role.DISPATCHER)
    )
    assert response.status_code == 409 and "approved" in response.text
    orders.abort(order)


def test_the_check_names_hazards_and_critical_customers_in_the_area(
    orders_database: str,
    sample_grid: GridModel,
    feeders: Feeders,
    orders: Orders,
) -> None:
    topology = Topology(Network.from_model(sample_grid))
    below = topology.downstream(feeders.section)
    fuse = next(d for d in below.devices if topology.network.links[d].kind is DeviceKind.FUSE)
    account = sorted(below.accounts)[0]
    with session_scope(session_factory(orders_database)) as session:
        hazard = open_incident(
            session,
            kind=IncidentKind.HAZARD,
            hazard=Hazard.WIRES_DOWN,
            device_asset_ref=fuse,
            confidence=0.9,
            customers_affected=0,
            started_at=datetime.now(UTC),
            reason="wires down",
        )
        session.execute(
            update(Customer).where(Customer.account == account).values(critical="hospital")
        )
    order = orders.draft(("open", feeders.section))
    assert hazard in order["check"]["hazards"]
    assert order["check"]["critical"] == [account]
