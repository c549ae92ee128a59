"""Recording operations by hand or from the field, and the abnormal-state list, over HTTP."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from grid_topology.model import DeviceKind, GridModel
from outage.app import create_app
from outage.auth.enums import Role
from tests.conftest import Credentials, issue_credentials

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def credentials_here(switching_database: str) -> Credentials:
    return issue_credentials(switching_database)


@pytest.fixture(scope="module")
def app_client(switching_database: str) -> Iterator[TestClient]:
    with TestClient(create_app(switching_database)) as client:
        yield client


def _switches(sample_grid: GridModel) -> list[str]:
    return [d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.SWITCH][-10:]


def _operate(
    client: TestClient, headers: dict[str, str], asset_ref: str, state: str, **extra: str
) -> dict[str, object]:
    body = {"asset_ref": asset_ref, "state": state, "occurred_at": NOW.isoformat(), **extra}
    response = client.post("/api/v1/grid/operations", json=body, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


def _abnormal(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, object]]:
    response = client.get("/api/v1/grid/abnormal", headers=headers)
    assert response.status_code == 200, response.text
    return {device["asset_ref"]: device for device in response.json()}


def test_a_dispatchers_opening_is_listed_as_abnormal_with_who_and_why(
    app_client: TestClient, credentials_here: Credentials, sample_grid: GridModel
) -> None:
    switch = _switches(sample_grid)[0]
    dispatcher = credentials_here.staff(Role.DISPATCHER)
    answer = _operate(app_client, dispatcher, switch, "open", reason="cable repair")
    assert answer["changed"] is True
    listed = _abnormal(app_client, dispatcher)[switch]
    assert listed["is_open"] is True and listed["normal_open"] is False
    assert (listed["source"], listed["actor"], listed["reason"]) == (
        "dispatcher",
        "test-dispatcher",
        "cable repair",
    )
    assert listed["tripped"] is False


def test_a_device_back_to_normal_leaves_the_list(
    app_client: TestClient, credentials_here: Credentials, sample_grid: GridModel
) -> None:
    switch = _switches(sample_grid)[1]
    dispatcher = credentials_here.staff(Role.DISPATCHER)
    _operate(app_client, dispatcher, switch, "open")
    later = (NOW + timedelta(seconds=30)).isoformat()
    _operate(app_client, dispatcher, switch, "closed", occurred_at=later)
    assert switch not in _abnormal(app_client, dispatcher)


def test_a_crews_report_is_recorded_as_the_crews(
    app_client: TestClient, credentials_here: Credentials, sample_grid: GridModel
) -> None:
    switch = _switches(sample_grid)[2]
    crew = credentials_here.staff(Role.CREW)
    _operate(app_client, crew, switch, "open", reason="opened to isolate the fault")
    listed = _abnormal(app_client, credentials_here.staff(Role.DISPATCHER))[switch]
    assert listed["source"] == "crew"


def test_a_line_section_is_refused_with_the_reason(
    app_client: TestClient, credentials_here: Credentials, sample_grid: GridModel
) -> None:
    line = next(d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.LINE)
    body = {"asset_ref": line, "state": "open", "occurred_at": NOW.isoformat()}
    response = app_client.post(
        "/api/v1/grid/operations", json=body, headers=credentials_here.staff(Role.DISPATCHER)
    )
    assert response.status_code == 422
    assert "cannot be opened or closed" in response.json()["detail"]


def test_an_agent_may_not_operate(
    app_client: TestClient, credentials_here: Credentials, sample_grid: GridModel
) -> None:
    body = {"asset_ref": _switches(sample_grid)[3], "state": "open", "occurred_at": NOW.isoformat()}
    response = app_client.post(
        "/api/v1/grid/operations", json=body, headers=credentials_here.staff(Role.AGENT)
    )
    assert response.status_code == 403
