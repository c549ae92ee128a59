"""After the repair, a return-to-normal draft for what the restoration order moved."""

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.grid.live import LiveTopology
from outage.restoration.after_repair import propose_return_to_normal
from tests.conftest import Credentials

from .conftest import ISOLATING, TIE, Outage
from .test_api import _order, _plans, _run

INCIDENTS = "/api/v1/incidents"
ORDERS = "/api/v1/switching/orders"


def _propose(url: str) -> list[int]:
    with session_scope(session_factory(url)) as session:
        topology = LiveTopology().energized(session)
        return propose_return_to_normal(session, topology=topology, now=datetime.now(UTC))


def _switch_back(client: TestClient, credentials: Credentials, incident_id: int) -> None:
    """Restored by switching: the plan of rank 1 ordered, carried out and completed."""
    version = _plans(client, credentials, incident_id)["network_version"]
    order = _run(client, credentials, _order(client, credentials, incident_id, version).json())
    client.post(
        f"{ORDERS}/{order['id']}/complete", headers=credentials.staff(Role.DISPATCHER)
    ).raise_for_status()


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
    for patch in ({"action": "set_cause", "cause": "cable fault"}, {"action": "close"}):
        client.patch(
            f"{INCIDENTS}/{line_fault.incident_id}", json=patch, headers=dispatcher
        ).raise_for_status()
    (drafted,) = _propose(restoration_database)
    assert _propose(restoration_database) == []
    linked = client.get(
        ORDERS, params={"incident": line_fault.incident_id, "state": "draft"}, headers=dispatcher
    ).json()
    (order,) = linked
    assert order["id"] == drafted and order["created_by"] == "restoration"
    steps = {(s["action"], s["asset_ref"]) for s in order["steps"]}
    assert steps == {("open", TIE)} | {("close", d) for d in ISOLATING}
