"""Hazard reports becoming hazard incidents, at once from the channel that took them."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from grid_topology.model import GridModel
from outage.app import create_app
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.grid.service import save_grid
from tests.conftest import issue_credentials, staff_client

ACCOUNT = "LV4.303 Load 19"


@pytest.fixture
def api(fresh_database_url: str, sample_grid: GridModel) -> Iterator[TestClient]:
    with session_scope(session_factory(fresh_database_url)) as session:
        save_grid(session, sample_grid)
    credentials = issue_credentials(fresh_database_url, roles=[Role.ADMIN], scopes=[])
    with staff_client(create_app(fresh_database_url), credentials) as client:
        yield client


def _hazard_incidents(api: TestClient) -> list[dict[str, object]]:
    incidents = api.get("/api/v1/incidents", params={"status": "active"}).json()
    return [i for i in incidents if i.get("hazard")]


def test_a_repeated_hazard_report_joins_the_open_hazard_incident(api: TestClient) -> None:
    api.post("/api/v1/reports", json={"account": ACCOUNT, "hazard": "wires_down"})
    again = api.post("/api/v1/reports", json={"account": ACCOUNT, "hazard": "wires_down"})
    assert again.json()["status"] == "duplicate"
    (incident,) = _hazard_incidents(api)
    assert incident["report_count"] == 2


def test_a_hazard_after_an_outage_report_then_repeated_opens_one_incident(
    api: TestClient,
) -> None:
    """Both hazard reports repeat the outage report, which is on no hazard incident."""
    api.post("/api/v1/reports", json={"account": ACCOUNT})
    for _ in range(2):
        api.post("/api/v1/reports", json={"account": ACCOUNT, "hazard": "fire"})
    assert len(_hazard_incidents(api)) == 1


def test_another_hazard_of_the_same_customer_opens_its_own_incident(api: TestClient) -> None:
    api.post("/api/v1/reports", json={"account": ACCOUNT, "hazard": "wires_down"})
    api.post("/api/v1/reports", json={"account": ACCOUNT, "hazard": "fire"})
    assert {i["hazard"] for i in _hazard_incidents(api)} == {"wires_down", "fire"}
