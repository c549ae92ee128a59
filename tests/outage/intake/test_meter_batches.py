"""POST /api/v1/ami/events: a head-end's batch keeps its good events whatever else it holds,
and answers every other event with why."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from grid_topology.model import GridModel
from outage.db import session_factory, session_scope
from outage.grid.models import Feeder, Premise
from outage.grid.regions import UNPLACED
from outage.intake.models import MeterEvent

AMI = "/api/v1/ami/events"
AN_HOUR_AGO = datetime.now(UTC) - timedelta(hours=1)


@pytest.fixture(scope="module")
def meters(sample_grid: GridModel) -> list[str]:
    return [p.meter_id for p in sample_grid.premises if p.meter_id]


def _event(meter: str, at: datetime = AN_HOUR_AGO, kind: str = "last_gasp") -> dict[str, Any]:
    return {"meter_id": meter, "event": kind, "occurred_at": at.isoformat()}


def _stored(database_url: str, meter: str) -> int:
    with session_scope(session_factory(database_url)) as session:
        count = select(func.count()).where(MeterEvent.meter_id == meter)
        return session.scalar(count) or 0


def test_a_retried_batch_is_answered_as_duplicates(head_end: TestClient, meters: list[str]) -> None:
    batch = {"events": [_event(m) for m in meters[:3]]}
    first = head_end.post(AMI, json=batch).json()
    again = head_end.post(AMI, json=batch).json()
    assert (first["accepted"], first["duplicates"]) == (3, 0)
    assert (again["accepted"], again["duplicates"]) == (0, 3)


def test_an_event_twice_in_one_batch_is_stored_once(
    head_end: TestClient, meters: list[str], ami_database: str
) -> None:
    answer = head_end.post(AMI, json={"events": [_event(meters[3])] * 2}).json()
    assert (answer["accepted"], answer["duplicates"]) == (1, 1)
    assert _stored(ami_database, meters[3]) == 1


def test_an_unknown_meter_is_named_and_the_others_stored(
    head_end: TestClient, meters: list[str], ami_database: str
) -> None:
    unknown = [_event("M-nope"), _event("M-nope", kind="power_restored")]
    batch = {"events": [_event(meters[4]), *unknown]}
    response = head_end.post(AMI, json=batch)
    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] == 1
    assert answer["unknown_meters"] == ["M-nope"]
    assert (answer["unknown_meter_count"], answer["unknown_events"]) == (1, 2)
    assert _stored(ami_database, meters[4]) == 1


def test_a_malformed_event_is_rejected_alone_with_its_reason(
    head_end: TestClient, meters: list[str], ami_database: str
) -> None:
    naive = {**_event(meters[6]), "occurred_at": "2026-11-25T10:00:00"}
    batch = {"events": [_event(meters[5]), {**_event(meters[6]), "event": "blink"}, naive]}
    answer = head_end.post(AMI, json=batch).json()
    assert answer["accepted"] == 1
    assert answer["rejected_count"] == 2
    assert [r["index"] for r in answer["rejected"]] == [1, 2]
    assert answer["rejected"][0]["reason"].startswith("event:")
    assert answer["rejected"][1]["reason"].startswith("occurred_at:")
    assert _stored(ami_database, meters[5]) == 1
    assert _stored(ami_database, meters[6]) == 0


@pytest.mark.parametrize(
    "when", [timedelta(minutes=10), -timedelta(days=30)], ids=["future", "beyond the horizon"]
)
def test_an_event_dated_out_of_bounds_is_rejected_alone(
    head_end: TestClient, meters: list[str], ami_database: str, when: timedelta
) -> None:
    good, bad = (meters[7], meters[8]) if when > timedelta(0) else (meters[9], meters[10])
    batch = {"events": [_event(good), _event(bad, datetime.now(UTC) + when)]}
    answer = head_end.post(AMI, json=batch).json()
    assert answer["accepted"] == 1
    assert [r["index"] for r in answer["rejected"]] == [1]
    assert "occurred_at" in answer["rejected"][0]["reason"]
    assert _stored(ami_database, bad) == 0


def test_the_answer_lists_are_capped_and_the_counts_whole(head_end: TestClient) -> None:
    batch = {"events": [_event(f"M-none-{i}") for i in range(150)] + [None] * 150}
    answer = head_end.post(AMI, json=batch).json()
    assert (len(answer["unknown_meters"]), answer["unknown_meter_count"]) == (100, 150)
    assert (len(answer["rejected"]), answer["rejected_count"]) == (100, 150)


def test_a_batch_of_only_bad_events_is_answered_not_refused(head_end: TestClient) -> None:
    answer = head_end.post(AMI, json={"events": [None, 7]}).json()
    assert (answer["accepted"], answer["rejected_count"]) == (0, 2)


@pytest.mark.parametrize(
    "body",
    [{}, {"events": []}, {"events": "x"}, [], {"events": [None], "more": 1}],
    ids=["no events", "empty", "not a list", "not an object", "unknown key"],
)
def test_a_body_that_is_not_a_batch_is_refused(head_end: TestClient, body: Any) -> None:
    assert head_end.post(AMI, json=body).status_code == 422


def test_a_batch_over_the_bound_is_refused(head_end: TestClient, meters: list[str]) -> None:
    batch = {"events": [_event(meters[0])] * 10_001}
    assert head_end.post(AMI, json=batch).status_code == 422


def test_ten_thousand_events_are_taken_in_one_request(
    head_end: TestClient, meters: list[str]
) -> None:
    start = datetime.now(UTC) - timedelta(hours=100)
    events = [
        _event(meters[100 + i % 100], start + timedelta(seconds=i), kind)
        for i in range(5_000)
        for kind in ("last_gasp", "power_restored")
    ]
    answer = head_end.post(AMI, json={"events": events}).json()
    assert (answer["accepted"], answer["duplicates"], answer["rejected_count"]) == (10_000, 0, 0)


def test_one_batch_posted_twice_at_once_is_stored_once(
    head_end: TestClient, meters: list[str]
) -> None:
    start = datetime.now(UTC) - timedelta(hours=90)
    batch = {
        "events": [
            _event(meters[300 + i % 500], start + timedelta(seconds=i)) for i in range(4_000)
        ]
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: head_end.post(AMI, json=batch), range(2)))
    assert [a.status_code for a in answers] == [200, 200]
    assert sorted(a.json()["accepted"] for a in answers) == [0, 4_000]


NASTY = [
    None,
    0,
    -1.5e308,
    True,
    "last_gasp",
    "x" * 100_000,
    [],
    [None, {}],
    {},
    {"meter_id": None, "event": None, "occurred_at": None},
    {"meter_id": "M" * 10_000, "event": "last_gasp", "occurred_at": "2026-12-01T00:00:00Z"},
    {"meter_id": {"nested": [1, {"deeper": "x"}]}, "event": ["last_gasp"], "occurred_at": 1e20},
    {"meter_id": "M-1", "event": "last_gasp", "occurred_at": "not a time"},
    {"meter_id": "   ", "event": "last_gasp", "occurred_at": "2026-12-01T00:00:00+07:00"},
    {"meter_id": "M-1", "event": "last_gasp", "occurred_at": "9999-12-31T23:59:59+14:00"},
    {"meter_id": "M-1", "event": "last_gasp", "occurred_at": "0001-01-01T00:00:00-12:00"},
    {"x" * 5_000: "y"},
    {"meter_id": "M-\u0000", "event": "last_gasp", "occurred_at": "2026-12-01T00:00:00Z"},
    {"meter_id": 2**70, "event": "last\u0000gasp", "occurred_at": 2**70},
]


def test_nasty_events_never_lose_the_good_ones(
    head_end: TestClient, meters: list[str], ami_database: str
) -> None:
    good = meters[11]
    response = head_end.post(AMI, json={"events": [*NASTY, _event(good)]})
    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] == 1
    assert answer["rejected_count"] == len(NASTY)
    assert all(len(r["reason"]) <= 300 for r in answer["rejected"])
    assert _stored(ami_database, good) == 1


def test_an_event_is_keyed_by_its_premises_substation(
    head_end: TestClient, meters: list[str], ami_database: str
) -> None:
    head_end.post(AMI, json={"events": [_event(meters[5])]})
    with session_scope(session_factory(ami_database)) as session:
        stored, home = session.execute(
            select(MeterEvent.substation_id, Feeder.substation_id)
            .join(Premise, Premise.id == MeterEvent.premise_id)
            .join(Feeder, Feeder.id == Premise.feeder_id)
            .where(MeterEvent.meter_id == meters[5])
        ).one()
    assert stored == home != UNPLACED
