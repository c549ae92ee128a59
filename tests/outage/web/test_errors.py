"""Error answers: short 422s that do not echo the input, and 503 only when the database is
away."""

from types import SimpleNamespace

import psycopg2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc

from outage.web.errors import database_away

JSON = {"Content-Type": "application/json"}


def test_validation_errors_are_few_and_do_not_echo_the_input(client: TestClient) -> None:
    keys = ", ".join(f'"{"k" * 150}{i}": "{"v" * 20}"' for i in range(300))
    response = client.post("/api/v1/reports", content="{" + keys + "}", headers=JSON)
    assert response.status_code == 422
    problems = response.json()["detail"]
    assert len(problems) == 20
    assert all(set(p) == {"type", "loc", "msg"} for p in problems)
    assert "v" * 20 not in response.text
    assert len(response.content) < 8000


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
