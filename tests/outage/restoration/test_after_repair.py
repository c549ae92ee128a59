"""After the repair, a return-to-normal draft for what the restoration order moved."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.grid.live import LiveTopology
from outage.notifications.sink import HttpSink, running_sink
from outage.orders.execution import Executor, Networks, confirm_by_scada, execute_step
from outage.orders.models import SwitchingStep
from outage.orders.scada import HttpScada
from outage.orders.timeouts import fail_unconfirmed
from outage.restoration import after_repair
from outage.restoration.errors import StalePlan
from tests.conftest import Credentials

from .conftest import ISOLATING, TIE, Outage
from .test_api import _order, _plans, _run

INCIDENTS = "/api/v1/incidents"
ORDERS = "/api/v1/switching/orders"


def _propose(url: str) -> list[int]:
    with session_scope(session_factory(url)) as session:
        topology = LiveTopology().energized(session)
        return after_repair.propose_return_to_normal(
            session, topology=topology, now=datetime.now(UTC)
        )


def _switch_back(client: TestClient, credentials: Credentials, incident_id: int) -> None:
    """Restored by switching: the plan of rank 1 ordered, carried out and completed."""
    version = _plans(client, credentials, incident_id)["network_version"]
    order = _run(client, credentials, _order(client, credentials, incident_id, version).json())
    client.post(
        f"{ORDERS}/{order['id']}/complete", headers=credentials.staff(Role.DISPATCHER)
    ).raise_for_status()


def _repair(client: TestClient, credentials: Credentials, incident_id: int) -> None:
    """The crew repaired the fault: the cause is set and the incident closed."""
    for patch in ({"action": "set_cause", "cause": "cable fault"}, {"action": "close"}):
        client.patch(
            f"{INCIDENTS}/{incident_id}", json=patch, headers=credentials.staff(Role.DISPATCHER)
        ).raise_for_status()


def _drafted_steps(
    client: TestClient, credentials: Credentials, incident_id: int
) -> set[tuple[str, str]]:
    (order,) = client.get(
        ORDERS,
        params={"incident": incident_id, "state": "draft"},
        headers=credentials.staff(Role.DISPATCHER),
    ).json()
    return {(s["action"], s["asset_ref"]) for s in order["steps"]}


def test_nothing_is_proposed_while_switching_alone_restored_the_outage(
    restoration_database: str, client: TestClient, credentials: Credentials, line_fault: Outage
) -> None:
    _switch_back(client, credentials, line_fault.incident_id)
    assert _propose(restoration_database) == []


def test_the_repair_proposes_a_draft_returning_the_moved_devices_to_normal(
    restoration_database: str, client: TestClient, credentials: Credentials, line_fault: Outage
) -> None:
    _switch_back(client, credentials, line_fault.incident_id)
    dispatcher = credentials.staff(Role.DISPATCHER)
    _repair(client, credentials, line_fault.incident_id)
    (drafted,) = _propose(restoration_database)
    assert _propose(restoration_database) == []
    linked = client.get(
        ORDERS, params={"incident": line_fault.incident_id, "state": "draft"}, headers=dispatcher
    ).json()
    (order,) = linked
    assert order["id"] == drafted and order["created_by"] == "restoration"
    steps = {(s["action"], s["asset_ref"]) for s in order["steps"]}
    assert steps == {("open", TIE)} | {("close", d) for d in ISOLATING}


@pytest.fixture(scope="module")
def sink() -> Iterator[HttpSink]:
    with running_sink() as sink:
        yield sink


def _tie_confirmed_late(url: str, order_id: int, position: int, sink: HttpSink) -> None:
    """The tie's closing sent to SCADA, failed unconfirmed five minutes after, and then
    reported closed by SCADA: the order is held, its step failed, the tie closed."""
    sessions, live = session_factory(url), LiveTopology()
    now = datetime.now(UTC)
    with session_scope(sessions) as session:
        execute_step(
            session,
            order_id,
            position,
            executor=Executor("dispatcher"),
            expected_version=None,
            networks=Networks(live.get(session), live.energized(session)),
            now=now,
            late_within=timedelta(minutes=15),
            scada=HttpScada(f"{sink.url}/commands"),
        )
        session.execute(
            update(SwitchingStep)
            .where(SwitchingStep.order_id == order_id, SwitchingStep.position == position)
            .values(commanded_at=now - timedelta(minutes=5))
        )
    with session_scope(sessions) as session:
        fail_unconfirmed(session, now, timeout=timedelta(minutes=2))
    with session_scope(sessions) as session:
        confirm_by_scada(
            session,
            TIE,
            is_open=False,
            at=now,
            late_within=timedelta(minutes=15),
            networks=lambda: Networks(live.get(session), live.energized(session)),
        )


def test_a_tie_confirmed_after_its_step_failed_is_returned_to_normal(
    restoration_database: str,
    client: TestClient,
    credentials: Credentials,
    sink: HttpSink,
    line_fault: Outage,
) -> None:
    incident_id = line_fault.incident_id
    version = _plans(client, credentials, incident_id)["network_version"]
    order: dict[str, Any] = _order(client, credentials, incident_id, version).json()
    path = f"{ORDERS}/{order['id']}"
    supervisor, dispatcher = credentials.staff(Role.SUPERVISOR), credentials.staff(Role.DISPATCHER)
    client.post(f"{path}/approve", headers=supervisor).raise_for_status()
    client.post(f"{path}/start", headers=dispatcher).raise_for_status()
    *before, last = order["steps"]
    assert (last["action"], last["asset_ref"]) == ("close", TIE)
    for step in before:
        client.post(
            f"{path}/steps/{step['position']}/execute", headers=dispatcher
        ).raise_for_status()
    _tie_confirmed_late(restoration_database, order["id"], last["position"], sink)
    client.post(f"{path}/abort", headers=dispatcher).raise_for_status()
    _repair(client, credentials, incident_id)
    _propose(restoration_database)
    assert ("open", TIE) in _drafted_steps(client, credentials, incident_id)


def test_a_return_to_normal_refused_is_tried_again_on_the_next_run(
    restoration_database: str,
    client: TestClient,
    credentials: Credentials,
    line_fault: Outage,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _switch_back(client, credentials, line_fault.incident_id)
    _repair(client, credentials, line_fault.incident_id)

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise StalePlan("the network changed meanwhile")

    monkeypatch.setattr(after_repair, "return_to_normal", refused)
    assert _propose(restoration_database) == []
    monkeypatch.undo()
    assert len(_propose(restoration_database)) == 1


def test_a_return_to_normal_that_fails_is_tried_again_and_logged_once(
    restoration_database: str,
    client: TestClient,
    credentials: Credentials,
    line_fault: Outage,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _switch_back(client, credentials, line_fault.incident_id)
    _repair(client, credentials, line_fault.incident_id)

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("connection lost")

    monkeypatch.setattr(after_repair, "return_to_normal", failing)
    assert _propose(restoration_database) == []
    assert _propose(restoration_database) == []
    logged = [r for r in caplog.records if r.name == after_repair.__name__]
    assert len(logged) == 1 and "connection lost" in logged[0].getMessage()
    monkeypatch.undo()
    assert len(_propose(restoration_database)) == 1
