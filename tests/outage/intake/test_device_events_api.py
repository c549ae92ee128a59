"""Smart-meter and SCADA events over HTTP."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from grid_topology.model import GridModel
from outage.db import session_factory, session_scope
from outage.intake.models import MeterEvent

AN_HOUR_AGO = (datetime.now(UTC) - timedelta(hours=1)).isoformat()


def _meter_events(database_url: str) -> int:
    with session_scope(session_factory(database_url)) as session:
        return session.scalar(select(func.count()).select_from(MeterEvent)) or 0


def test_last_gasps_are_stored_once(client: TestClient, sample_grid: GridModel) -> None:
    meters = [p.meter_id for p in sample_grid.premises[:3]]
    batch = {
        "events": [
            {"meter_id": m, "event": "last_gasp", "occurred_at": AN_HOUR_AGO} for m in meters
        ]
    }
    first = client.post("/api/v1/ami/events", json=batch)
    again = client.post("/api/v1/ami/events", json=batch)
    assert first.json() == {"accepted": 3, "duplicates": 0}
    assert again.json() == {"accepted": 0, "duplicates": 3}


def test_batch_with_unknown_meter_is_refused_whole(
    client: TestClient, sample_grid: GridModel, grid_database: str
) -> None:
    before = _meter_events(grid_database)
    batch = {
        "events": [
            {
                "meter_id": sample_grid.premises[5].meter_id,
                "event": "power_restored",
                "occurred_at": datetime.now(UTC).isoformat(),
            },
            {"meter_id": "M-nope", "event": "last_gasp", "occurred_at": AN_HOUR_AGO},
        ]
    }
    response = client.post("/api/v1/ami/events", json=batch)
    assert response.status_code == 422
    assert "M-nope" in response.json()["detail"]
    assert _meter_events(grid_database) == before


def test_meter_event_needs_a_timezone(client: TestClient, sample_grid: GridModel) -> None:
    event = {
        "meter_id": sample_grid.premises[0].meter_id,
        "event": "last_gasp",
        "occurred_at": "2026-11-25T10:00:00",
    }
    assert client.post("/api/v1/ami/events", json={"events": [event]}).status_code == 422


def test_scada_breaker_open_is_stored_once(client: TestClient, sample_grid: GridModel) -> None:
    event = {
        "asset_ref": sample_grid.feeders[0].head,
        "state": "open",
        "occurred_at": AN_HOUR_AGO,
    }
    assert client.post("/api/v1/scada/events", json=event).json() == {"accepted": True}
    assert client.post("/api/v1/scada/events", json=event).json() == {"accepted": False}


def test_scada_event_for_unknown_device_is_refused(client: TestClient) -> None:
    event = {"asset_ref": "nope", "state": "open", "occurred_at": AN_HOUR_AGO}
    response = client.post("/api/v1/scada/events", json=event)
    assert response.status_code == 422
    assert "nope" in response.json()["detail"]


@pytest.mark.parametrize(
    "when", [timedelta(minutes=10), -timedelta(days=30)], ids=["future", "beyond the horizon"]
)
def test_scada_event_dated_out_of_bounds_is_refused(
    client: TestClient, sample_grid: GridModel, when: timedelta
) -> None:
    event = {
        "asset_ref": sample_grid.feeders[0].head,
        "state": "closed",
        "occurred_at": (datetime.now(UTC) + when).isoformat(),
    }
    response = client.post("/api/v1/scada/events", json=event)
    assert response.status_code == 422
    assert "occurred_at" in response.json()["detail"]


@pytest.mark.parametrize(
    "when", [timedelta(minutes=10), -timedelta(days=30)], ids=["future", "beyond the horizon"]
)
def test_meter_batch_with_an_event_dated_out_of_bounds_is_refused_whole(
    client: TestClient, sample_grid: GridModel, grid_database: str, when: timedelta
) -> None:
    before = _meter_events(grid_database)
    meters = [p.meter_id for p in sample_grid.premises[6:8]]
    times = [AN_HOUR_AGO, (datetime.now(UTC) + when).isoformat()]
    batch = {
        "events": [
            {"meter_id": m, "event": "power_restored", "occurred_at": at}
            for m, at in zip(meters, times, strict=True)
        ]
    }
    response = client.post("/api/v1/ami/events", json=batch)
    assert response.status_code == 422
    assert "occurred_at" in response.json()["detail"]
    assert _meter_events(grid_database) == before
