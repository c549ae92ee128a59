"""Storms over HTTP: who may declare, and refusals with their reasons."""

from fastapi.testclient import TestClient

from outage.auth.enums import Role
from tests.conftest import Credentials


def test_a_supervisor_declares_a_storm_and_reads_it_back(
    client: TestClient, storms_credentials: Credentials
) -> None:
    headers = storms_credentials.staff(Role.SUPERVISOR)
    answer = client.post("/api/v1/storms", json={"name": "Yagi", "level": 3}, headers=headers)
    assert answer.status_code == 201, answer.text
    storm = client.get(answer.headers["Location"], headers=headers).json()
    assert (storm["name"], storm["level"], storm["phase"]) == ("Yagi", 3, "assessing")
    assert storm["ended_at"] is None and storm["version"] == 1


def test_a_dispatcher_may_read_but_not_declare(
    client: TestClient, storms_credentials: Credentials
) -> None:
    headers = storms_credentials.staff(Role.DISPATCHER)
    assert client.get("/api/v1/storms", headers=headers).status_code == 200
    refused = client.post("/api/v1/storms", json={"name": "Yagi", "level": 1}, headers=headers)
    assert refused.status_code == 403


def test_a_second_storm_is_refused_with_its_reason(
    client: TestClient, storms_credentials: Credentials
) -> None:
    headers = storms_credentials.staff(Role.SUPERVISOR)
    client.post("/api/v1/storms", json={"name": "One", "level": 1}, headers=headers)
    second = client.post("/api/v1/storms", json={"name": "Two", "level": 1}, headers=headers)
    assert second.status_code == 409
    assert "on already" in second.json()["detail"]


def test_a_level_out_of_range_is_refused(
    client: TestClient, storms_credentials: Credentials
) -> None:
    headers = storms_credentials.staff(Role.SUPERVISOR)
    answer = client.post("/api/v1/storms", json={"name": "Yagi", "level": 4}, headers=headers)
    assert answer.status_code == 422


def test_the_proposal_counts_what_is_out(
    client: TestClient, storms_credentials: Credentials
) -> None:
    answer = client.get(
        "/api/v1/storms/proposal", headers=storms_credentials.staff(Role.DISPATCHER)
    )
    assert answer.status_code == 200
    proposal = answer.json()
    assert proposal["customers"] > 0 and proposal["level"] in (0, 1, 2, 3)
    assert proposal["storm_on"] is False


def test_an_empty_list_of_regions_is_refused(
    client: TestClient, storms_credentials: Credentials
) -> None:
    headers = storms_credentials.staff(Role.SUPERVISOR)
    storm = client.post("/api/v1/storms", json={"name": "Yagi", "level": 1}, headers=headers)
    answer = client.patch(
        storm.headers["Location"],
        json={"expected_version": 1, "phase": "regional", "regions": []},
        headers=headers,
    )
    assert answer.status_code == 422
