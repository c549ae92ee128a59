"""Recording operations by hand or from the field, and the abnormal-state list, over HTTP."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from grid_topology.model import SWITCHING_KINDS, DeviceKind, GridModel
from outage.app import create_app
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.grid.models import Device, SwitchOperation
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


def _count_operations(database_url: str, asset_ref: str) -> int:
    with session_scope(session_factory(database_url)) as session:
        found = session.scalar(
            select(func.count())
            .select_from(SwitchOperation)
            .join(Device, Device.id == SwitchOperation.device_id)
            .where(Device.asset_ref == asset_ref)
        )
    return int(found or 0)


def test_a_report_sent_again_with_its_key_is_recorded_once(
    app_client: TestClient,
    credentials_here: Credentials,
    sample_grid: GridModel,
    switching_database: str,
) -> None:
    switch = _switches(sample_grid)[4]
    crew = {**credentials_here.staff(Role.CREW), "Idempotency-Key": "crew-report-1"}
    first = _operate(app_client, crew, switch, "open")
    again = _operate(app_client, crew, switch, "open")
    assert (first["changed"], first["replayed"]) == (True, False)
    assert (again["changed"], again["replayed"], again["is_open"]) == (False, True, True)
    assert _count_operations(switching_database, switch) == 1


def test_a_key_sent_again_with_another_operation_is_refused(
    app_client: TestClient, credentials_here: Credentials, sample_grid: GridModel
) -> None:
    switch = _switches(sample_grid)[5]
    crew = {**credentials_here.staff(Role.CREW), "Idempotency-Key": "crew-report-2"}
    _operate(app_client, crew, switch, "open")
    body = {"asset_ref": switch, "state": "closed", "occurred_at": NOW.isoformat()}
    response = app_client.post("/api/v1/grid/operations", json=body, headers=crew)
    assert response.status_code == 409
    assert response.json()["code"] == "request_key_reused"


def test_refusals_name_their_code_for_the_page_to_word(
    app_client: TestClient, credentials_here: Credentials, sample_grid: GridModel
) -> None:
    line = next(d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.LINE)
    crew = credentials_here.staff(Role.CREW)
    codes = {}
    for asset_ref in (line, "no such device"):
        body = {"asset_ref": asset_ref, "state": "open", "occurred_at": NOW.isoformat()}
        response = app_client.post("/api/v1/grid/operations", json=body, headers=crew)
        assert response.status_code == 422
        codes[asset_ref] = response.json()["code"]
    assert codes == {line: "not_switchable", "no such device": "unknown_device"}


def test_a_crew_finds_switchable_devices_by_part_of_their_reference(
    app_client: TestClient, credentials_here: Credentials, sample_grid: GridModel
) -> None:
    fuse = next(d.asset_ref for d in sample_grid.devices if d.kind is DeviceKind.FUSE)
    part = fuse[len(fuse) // 2 :].lower()
    response = app_client.get(
        "/api/v1/grid/switchable", params={"q": part}, headers=credentials_here.staff(Role.CREW)
    )
    assert response.status_code == 200, response.text
    found = response.json()
    assert fuse in [device["asset_ref"] for device in found]
    assert 0 < len(found) <= 20
    kinds = {device.asset_ref: device.kind for device in sample_grid.devices}
    assert all(kinds[device["asset_ref"]] in SWITCHING_KINDS for device in found)
