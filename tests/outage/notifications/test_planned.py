"""Planned outages: notices ahead, reminders, changes and cancellations, and their views."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from outage.db import session_scope
from outage.notifications import planned
from outage.notifications.enums import DeliveryStatus
from outage.notifications.models import Notification
from outage.outbox.enums import EventKind
from outage.settings import Settings

from .conftest import Drain, Grid


def _planned_messages(session: Session) -> Counter[tuple[EventKind, DeliveryStatus]]:
    return Counter(
        (m.kind, m.status)
        for m in session.scalars(
            select(Notification).where(Notification.planned_outage_id.is_not(None))
        )
    )


def _schedule(api: TestClient, device: str, days: float, hours: float = 4) -> dict:
    starts = datetime.now(UTC) + timedelta(days=days)
    answer = api.post(
        "/api/v1/planned-outages",
        json={
            "device": device,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=hours)).isoformat(),
            "reason": "replace the fuse holder",
        },
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_work_within_the_notice_days_is_noticed_at_once(
    api: TestClient, sessions: sessionmaker[Session], drain: Drain, grid: Grid
) -> None:
    outage = _schedule(api, grid.fuse, days=3)
    drain()
    customers = len(grid.accounts[grid.fuse])
    assert outage["customers"] == customers and outage["notice_queued_at"]
    with sessions() as session:
        assert _planned_messages(session) == {
            (EventKind.PLANNED_NOTICE, DeliveryStatus.SENT): customers
        }


def test_later_work_is_noticed_by_the_job_and_reminded_the_day_before(
    api: TestClient, sessions: sessionmaker[Session], settings: Settings, drain: Drain, grid: Grid
) -> None:
    outage = _schedule(api, grid.fuse, days=10)
    assert outage["notice_queued_at"] is None
    starts = datetime.fromisoformat(outage["starts_at"])
    for when in (
        starts - timedelta(days=6),
        starts - timedelta(days=5),
        starts - timedelta(hours=20),
    ):
        with session_scope(sessions) as session:
            planned.queue_due(session, when, settings)
        drain()
    customers = len(grid.accounts[grid.fuse])
    with sessions() as session:
        assert _planned_messages(session) == {
            (EventKind.PLANNED_NOTICE, DeliveryStatus.SENT): customers,
            (EventKind.PLANNED_REMINDER, DeliveryStatus.SENT): customers,
        }


def test_moving_and_cancelling_tell_the_customers_noticed(
    api: TestClient, sessions: sessionmaker[Session], drain: Drain, grid: Grid
) -> None:
    outage = _schedule(api, grid.fuse, days=3)
    drain()
    later = datetime.fromisoformat(outage["starts_at"]) + timedelta(days=1)
    moved = api.patch(
        f"/api/v1/planned-outages/{outage['id']}",
        json={"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=2)).isoformat()},
    )
    assert moved.status_code == 200 and moved.json()["revision"] == 2
    drain()
    cancelled = api.delete(f"/api/v1/planned-outages/{outage['id']}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    drain()
    assert api.delete(f"/api/v1/planned-outages/{outage['id']}").status_code == 409
    customers = len(grid.accounts[grid.fuse])
    with sessions() as session:
        counts = _planned_messages(session)
    assert counts[(EventKind.PLANNED_CHANGED, DeliveryStatus.SENT)] == customers
    assert counts[(EventKind.PLANNED_CANCELLED, DeliveryStatus.SENT)] == customers


def test_a_window_in_the_past_or_an_unknown_device_is_refused(api: TestClient, grid: Grid) -> None:
    past = datetime.now(UTC) - timedelta(days=1)
    body = {
        "device": grid.fuse,
        "starts_at": past.isoformat(),
        "ends_at": (past + timedelta(hours=1)).isoformat(),
        "reason": "too late",
    }
    assert api.post("/api/v1/planned-outages", json=body).status_code == 422
    soon = datetime.now(UTC) + timedelta(days=1)
    body.update(
        device="no-such-device",
        starts_at=soon.isoformat(),
        ends_at=(soon + timedelta(hours=1)).isoformat(),
    )
    answer = api.post("/api/v1/planned-outages", json=body)
    assert answer.status_code == 422 and "no-such-device" in answer.text
    assert api.get("/api/v1/planned-outages").json() == []


def test_active_or_upcoming_lists_scheduled_work_with_a_place(
    api: TestClient, sessions: sessionmaker[Session], grid: Grid
) -> None:
    kept = _schedule(api, grid.fuse, days=2)
    dropped = _schedule(api, grid.other_fuse, days=2)
    api.delete(f"/api/v1/planned-outages/{dropped['id']}")
    with sessions() as session:
        views = planned.active_or_upcoming(session, datetime.now(UTC))
        window = planned.between(session, datetime.now(UTC), datetime.now(UTC) + timedelta(days=3))
    assert [v.id for v in views] == [kept["id"]] == [v.id for v in window]
    assert views[0].device == grid.fuse and -180 <= views[0].lon <= 180


@pytest.mark.parametrize(
    ("starts", "length", "reason"),
    [
        (timedelta(days=400), timedelta(hours=4), "days ahead"),
        (timedelta(days=2), timedelta(days=30), "at most"),
        (datetime(9999, 12, 31, 16, tzinfo=UTC) - datetime.now(UTC), timedelta(hours=3), "ahead"),
    ],
)
def test_a_window_too_far_ahead_or_too_long_is_refused(
    api: TestClient, grid: Grid, starts: timedelta, length: timedelta, reason: str
) -> None:
    begin = datetime.now(UTC) + starts
    body = {
        "device": grid.fuse,
        "starts_at": begin.isoformat(),
        "ends_at": (begin + length).isoformat(),
        "reason": "far away",
    }
    answer = api.post("/api/v1/planned-outages", json=body)
    assert answer.status_code == 422 and reason in answer.json()["detail"]
    assert api.get("/api/v1/planned-outages").json() == []
