"""What every route shares: body limits counted on the bytes read, JSON shape limits, short
422 answers, and values no channel may store (NaN, lone surrogates, NUL, huge integers)."""

from collections.abc import Iterator
from types import SimpleNamespace

import psycopg2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc

from outage.db import session_factory, session_scope
from outage.web.errors import database_away
from tests.conftest import make_crew

JSON = {"Content-Type": "application/json"}


def _chunks(body: bytes, size: int = 8192) -> Iterator[bytes]:
    """The body sent chunked: no Content-Length to check."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    body = b'{"address": "' + b"x" * (100 * 1024) + b'"}'
    response = client.post("/api/v1/reports", content=_chunks(body), headers=JSON)
    assert response.status_code == 413
    assert len(response.content) < 200


def test_chunked_form_over_the_limit_is_413_with_the_security_headers(
    client: TestClient,
) -> None:
    body = b"From=%2B84912000111&Body=" + b"x" * (100 * 1024)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    response = client.post("/api/v1/channels/sms", content=_chunks(body), headers=form)
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]
    assert "content-security-policy" in response.headers


def test_deeply_nested_json_to_the_sms_webhook_is_422(client: TestClient) -> None:
    body = b"[" * 30_000 + b"]" * 30_000
    response = client.post("/api/v1/channels/sms", content=body, headers=JSON)
    assert response.status_code == 422
    assert "nested deeper" in response.json()["detail"]


def test_json_with_too_many_values_is_422(client: TestClient) -> None:
    body = "[" + ",".join(["0"] * 30_000) + "]"
    response = client.post("/api/v1/reports", content=body, headers=JSON)
    assert response.status_code == 422
    assert "more than" in response.json()["detail"]


def test_validation_errors_are_few_and_do_not_echo_the_input(client: TestClient) -> None:
    keys = ", ".join(f'"{"k" * 150}{i}": "{"v" * 20}"' for i in range(300))
    response = client.post("/api/v1/reports", content="{" + keys + "}", headers=JSON)
    assert response.status_code == 422
    problems = response.json()["detail"]
    assert len(problems) == 20
    assert all(set(p) == {"type", "loc", "msg"} for p in problems)
    assert "v" * 20 not in response.text
    assert len(response.content) < 8000


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


def _database_error(pgcode: str | None) -> sa_exc.OperationalError:
    orig = SimpleNamespace(pgcode=pgcode)
    return sa_exc.OperationalError("SELECT 1", {}, orig)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "away"),
    [
        (_database_error("57P01"), True),
        (_database_error("08006"), True),
        (psycopg2.OperationalError("could not connect to server: Connection refused"), True),
        (sa_exc.TimeoutError("QueuePool limit reached"), True),
        (_database_error("40P01"), False),
        (_database_error("57014"), False),
    ],
    ids=["shutdown", "connection-lost", "refused", "pool-empty", "deadlock", "statement-timeout"],
)
def test_only_a_database_that_is_away_means_503(error: Exception, away: bool) -> None:
    assert database_away(error) is away
