"""Values no channel may store are refused with 422 where they enter: NaN and infinite
coordinates, lone surrogates, NUL, integers beyond bigint."""

import pytest
from fastapi.testclient import TestClient

from outage.db import session_factory, session_scope
from tests.conftest import make_crew

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_report_coordinates_are_422(client: TestClient, number: str) -> None:
    body = f'{{"lat": {number}, "lon": 105.8}}'
    response = client.post("/api/v1/reports", content=body, headers=JSON)
    assert response.status_code == 422


@pytest.mark.parametrize("number", ["NaN", "1e999"])
def test_non_finite_crew_positions_are_422(
    client: TestClient, grid_database: str, number: str
) -> None:
    with session_scope(session_factory(grid_database)) as session:
        crew_id = make_crew(session)
    body = f'{{"lat": 21.0, "lon": {number}}}'
    response = client.post(f"/api/v1/crews/{crew_id}/position", content=body, headers=JSON)
    assert response.status_code == 422


def test_a_lone_surrogate_in_report_text_is_422(client: TestClient) -> None:
    body = '{"address": "12 Hang Bac", "description": "dark \\ud800 here"}'
    response = client.post("/api/v1/reports", content=body, headers=JSON)
    assert response.status_code == 422


def test_nul_in_request_details_is_422(client: TestClient) -> None:
    body = '{"type": "meter_check", "address": "12 Hang Bac", "details": {"note": "a\\u0000b"}}'
    response = client.post("/api/v1/requests", content=body, headers=JSON)
    assert response.status_code == 422
    assert "NUL" in response.json()["detail"]


def test_request_detail_integers_beyond_bigint_are_422(client: TestClient) -> None:
    body = '{"type": "meter_check", "address": "12 Hang Bac", "details": {"n": 1' + "0" * 30 + "}}"
    response = client.post("/api/v1/requests", content=body, headers=JSON)
    assert response.status_code == 422
