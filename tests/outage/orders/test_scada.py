"""Steps sent to SCADA: the HTTP adapter, and a step done when SCADA reports the device."""

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from outage.auth.enums import Role, Scope
from outage.db import session_factory, session_scope
from outage.grid.live import LiveTopology
from outage.notifications.sink import HttpSink
from outage.orders.execution import Executor, Networks, confirm_by_scada, execute_step
from outage.orders.scada import HttpScada, ScadaRefused
from tests.conftest import Credentials

from .conftest import ORDERS, Feeders


def test_the_adapter_posts_the_command(sink: HttpSink) -> None:
    HttpScada(f"{sink.url}/commands").send("Switch 9", True, command_id="order-9-step-1")
    assert sink.received()["order-9-step-1"] == {
        "command_id": "order-9-step-1",
        "asset_ref": "Switch 9",
        "state": "open",
    }


def test_a_command_scada_does_not_take_is_refused(sink: HttpSink) -> None:
    sink.fail(requests=1)
    with pytest.raises(ScadaRefused, match="503"):
        HttpScada(f"{sink.url}/commands").send("Switch 9", True, command_id="order-9-step-2")


def _started(client: TestClient, credentials: Credentials, asset_ref: str) -> dict[str, Any]:
    body = {"title": "by SCADA", "steps": [{"action": "open", "asset_ref": asset_ref}]}
    order: dict[str, Any] = client.post(
        ORDERS, json=body, headers=credentials.staff(Role.DISPATCHER)
    ).json()
    path = f"{ORDERS}/{order['id']}"
    client.post(f"{path}/approve", headers=credentials.staff(Role.SUPERVISOR)).raise_for_status()
    client.post(f"{path}/start", headers=credentials.staff(Role.DISPATCHER)).raise_for_status()
    return order


def test_a_step_is_commanded_then_done_when_scada_reports_the_device(
    scada_client: TestClient, credentials: Credentials, sink: HttpSink, feeders: Feeders
) -> None:
    order = _started(scada_client, credentials, feeders.section)
    dispatcher = credentials.staff(Role.DISPATCHER)
    sent = scada_client.post(f"{ORDERS}/{order['id']}/steps/1/execute", headers=dispatcher)
    assert sent.json()["steps"][0]["state"] == "commanded"
    assert sink.received()[f"order-{order['id']}-step-1"]["asset_ref"] == feeders.section
    event = {
        "asset_ref": feeders.section,
        "state": "open",
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    scada_client.post(
        "/api/v1/scada/events", json=event, headers=credentials.key(Scope.SCADA)
    ).raise_for_status()
    done = scada_client.get(f"{ORDERS}/{order['id']}", headers=dispatcher).json()
    assert (done["steps"][0]["state"], done["steps"][0]["executed_by"]) == ("done", "scada")
    abnormal = scada_client.get("/api/v1/grid/abnormal", headers=dispatcher).json()
    listed = next(d for d in abnormal if d["asset_ref"] == feeders.section)
    assert listed["source"] == "order" and listed["reason"] == f"order {order['id']} step 1"


def test_a_commanded_step_is_not_sent_twice(
    scada_client: TestClient, credentials: Credentials, feeders: Feeders
) -> None:
    order = _started(scada_client, credentials, feeders.neighbour_head)
    path = f"{ORDERS}/{order['id']}/steps/1/execute"
    dispatcher = credentials.staff(Role.DISPATCHER)
    scada_client.post(path, headers=dispatcher).raise_for_status()
    again = scada_client.post(path, headers=dispatcher)
    assert again.status_code == 409 and "awaits" in again.json()["detail"]
    by_hand = scada_client.post(path, json={"by_hand": True}, headers=dispatcher)
    assert by_hand.json()["steps"][0]["state"] == "done"


def test_a_confirmation_faster_than_the_commands_commit_waits_for_it_and_sees_the_step(
    orders_database: str,
    scada_client: TestClient,
    credentials: Credentials,
    sink: HttpSink,
    switches: list[str],
) -> None:
    switch = switches[0]
    order = _started(scada_client, credentials, switch)
    sessions, live = session_factory(orders_database), LiveTopology()
    sent = threading.Event()

    def confirm() -> None:
        sent.wait()
        with session_scope(sessions) as session:
            confirm_by_scada(
                session,
                switch,
                is_open=True,
                at=datetime.now(UTC),
                late_within=timedelta(minutes=15),
                networks=lambda: Networks(live.get(session), live.energized(session)),
            )

    confirmation = threading.Thread(target=confirm)
    confirmation.start()
    with session_scope(sessions) as session:
        execute_step(
            session,
            order["id"],
            1,
            executor=Executor("dispatcher"),
            expected_version=None,
            networks=Networks(live.get(session), live.energized(session)),
            now=datetime.now(UTC),
            late_within=timedelta(minutes=15),
            scada=HttpScada(f"{sink.url}/commands"),
        )
        sent.set()  # SCADA answers at once; the command's transaction has not committed
        confirmation.join(timeout=0.5)
        assert confirmation.is_alive()
    confirmation.join(timeout=10)
    done = scada_client.get(f"{ORDERS}/{order['id']}", headers=credentials.staff()).json()
    assert (done["steps"][0]["state"], done["steps"][0]["executed_by"]) == ("done", "scada")
