"""`GET /api/v1/reliability` and its CSV export, on the ten-customer grid."""

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from outage.app import create_app
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from tests.conftest import issue_credentials, staff_client

from .conftest import act, grid_database, on_site, outage, restore

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
MARCH = {"start": "2025-03-01", "end": "2025-03-31"}


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=ZONE)


@pytest.fixture(scope="module")
def client(database_url: str) -> Iterator[TestClient]:
    """A supervisor's client on a database with two outages in March 2025: F1's breaker
    (B1-B3 back after 30 minutes, A1-A4 after 90) and a momentary one on F2."""
    with grid_database(database_url) as url:
        with session_scope(session_factory(url)) as session:
            incident = outage(session, "BR-1", local(10, 8))
            on_site(session, incident)
            act(session, incident, "partial_restore", restored_device="SW-B", at=local(10, 8, 30))
            restore(session, incident, local(10, 9, 30))
            restore(session, outage(session, "BR-2", local(13, 8)), local(13, 8, 2))
        credentials = issue_credentials(url, roles=[Role.SUPERVISOR], scopes=[])
        with staff_client(create_app(url), credentials, Role.SUPERVISOR) as test_client:
            yield test_client


def test_report_gives_the_indices_of_the_period(client: TestClient) -> None:
    response = client.get("/api/v1/reliability", params={**MARCH, "feeder": "F1"})
    assert response.status_code == 200
    body = response.json()
    assert (body["feeder"], body["customers_served"]) == ("F1", 7)
    figures = body["with_major_events"]
    assert figures["saifi"] == pytest.approx(1.0)
    assert figures["saidi"] == pytest.approx(450 / 7)
    assert body["planned"]["customer_interruptions"] == 0
    assert body["threshold"] is None and body["major_event_days"] == []


def test_report_of_the_system_counts_momentary_events(client: TestClient) -> None:
    body = client.get("/api/v1/reliability", params=MARCH).json()
    assert body["customers_served"] == 10
    assert body["with_major_events"]["maifi_e"] == pytest.approx(0.3)
    assert body["with_major_events"]["saidi"] == pytest.approx(45.0)


def test_n_and_t_shape_cemi_and_celid(client: TestClient) -> None:
    body = client.get("/api/v1/reliability", params={**MARCH, "n": 0, "celid_hours": 1}).json()
    assert (body["n"], body["celid_hours"]) == (0, 1.0)
    assert body["with_major_events"]["cemi_n"] == pytest.approx(0.7)
    assert body["with_major_events"]["celid_s"] == pytest.approx(0.4)


def test_instants_bound_the_period_exactly(client: TestClient) -> None:
    params = {"start": "2025-03-10T08:10:00+07:00", "end": "2025-03-31T00:00:00+07:00"}
    body = client.get("/api/v1/reliability", params=params).json()
    # the breaker opened at 08:00, before this period began
    assert body["with_major_events"]["customer_interruptions"] == 0
    assert datetime.fromisoformat(body["start"]) == local(10, 8, 10)


def test_csv_export_has_a_row_per_set_of_indices(client: TestClient) -> None:
    response = client.get("/api/v1/reliability.csv", params={**MARCH, "feeder": "F1"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["figures"] for r in rows] == [
        "unplanned",
        "unplanned_excluding_major_event_days",
        "planned",
    ]
    json_body = client.get("/api/v1/reliability", params={**MARCH, "feeder": "F1"}).json()
    assert float(rows[0]["saidi"]) == pytest.approx(json_body["with_major_events"]["saidi"])
    assert rows[0]["feeder"] == "F1"


@pytest.mark.parametrize(
    "params, reason",
    [
        ({"start": "2025-13-01", "end": "2025-03-31"}, "neither a date"),
        ({"start": "yesterday", "end": "2025-03-31"}, "neither a date"),
        ({"start": "2025-03-31", "end": "2025-03-01"}, "before it starts"),
        ({**MARCH, "feeder": "F9"}, "no feeder"),
        ({**MARCH, "region": "TBA Gamma"}, "no region"),
        ({**MARCH, "feeder": "F1", "region": "TBA Alpha"}, "not both"),
        ({"start": "0001-01-01", "end": "9999-12-31"}, "outside the years"),
        ({"start": "2025-03-01", "end": "9999-12-31T23:59:59"}, "outside the years"),
    ],
)
def test_bad_queries_are_422_with_the_reason(
    client: TestClient, params: dict[str, str], reason: str
) -> None:
    for path in ("/api/v1/reliability", "/api/v1/reliability.csv"):
        response = client.get(path, params=params)
        assert response.status_code == 422
        assert reason in response.json()["detail"]


def test_a_period_is_required(client: TestClient) -> None:
    assert client.get("/api/v1/reliability").status_code == 422
