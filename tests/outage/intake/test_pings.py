"""Meter pings: requests kept to the head-end's limits, sent from their outbox, answered
once, expired when unanswered, and their answers read by the engine as meter evidence."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.db import session_factory, session_scope
from outage.grid.models import Customer, Feeder, Premise
from outage.grid.regions import UNPLACED
from outage.intake.enums import PingReason, PingState
from outage.intake.headend import HeadEndLimits, HeadEndRefused, HttpHeadEnd
from outage.intake.models import MeterEvent, MeterPing
from outage.intake.pings import expire_pings, request_pings, send_pending
from outage.prediction.evidence import gather
from outage.prediction.inference import EvidenceKind
from outage.simulation.headend import SimulatedHeadEnd

ANSWERS = "/api/v1/ami/pings/answers"
WIDE = HeadEndLimits(max_batch=100, max_per_minute=1000)
HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def moments() -> Iterator[datetime]:
    """A moment per test, hours apart, so no test counts another's pings in its minute."""
    start = datetime.now(UTC) - timedelta(hours=100)
    return (start + n * HOUR for n in count())


@pytest.fixture
def session(ami_database: str) -> Iterator[Session]:
    """Work rolled back afterwards."""
    session = session_factory(ami_database)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def _take(meters: Iterator[str], n: int) -> list[str]:
    return [next(meters) for _ in range(n)]


class RecordingHeadEnd:
    """Takes every request, after refusing the first `refusals`."""

    def __init__(self, refusals: int = 0, limits: HeadEndLimits = WIDE) -> None:
        self.refusals = refusals
        self.limits = limits
        self.taken: list[tuple[str, list[str]]] = []

    def ping(self, request_id: str, meter_ids: list[str]) -> None:
        if self.refusals:
            self.refusals -= 1
            raise HeadEndRefused("down for maintenance")
        self.taken.append((request_id, meter_ids))


def _answer(request_id: str, meter: str, state: str, at: datetime) -> dict[str, str]:
    return {
        "request_id": request_id,
        "meter_id": meter,
        "state": state,
        "answered_at": at.isoformat(),
    }


def _asked(database: str, meters: list[str], now: datetime) -> str:
    """Pings of the meters recorded and sent, committed: their request's id."""
    with session_scope(session_factory(database)) as session:
        batch = request_pings(session, WIDE, meters, PingReason.MANUAL, now=now)
        send_pending(session, RecordingHeadEnd(), now=now)
    return batch.request_ids[0]


def _states(database: str, request_id: str) -> dict[str, PingState]:
    with session_scope(session_factory(database)) as session:
        rows = session.execute(
            select(MeterPing.meter_id, MeterPing.state).where(MeterPing.request_id == request_id)
        )
        return {meter: state for meter, state in rows}


def test_a_request_is_split_into_the_headends_batches(
    session: Session, meters: Iterator[str], moments: Iterator[datetime]
) -> None:
    limits = HeadEndLimits(max_batch=2, max_per_minute=100)
    wanted = _take(meters, 5)
    batch = request_pings(session, limits, wanted, PingReason.MANUAL, now=next(moments))
    sizes = [
        len(session.scalars(select(MeterPing).where(MeterPing.request_id == r)).all())
        for r in batch.request_ids
    ]
    assert (batch.asked, sizes) == (wanted, [2, 2, 1])


def test_meters_over_the_minutes_budget_are_deferred(
    session: Session, meters: Iterator[str], moments: Iterator[datetime]
) -> None:
    limits = HeadEndLimits(max_batch=10, max_per_minute=3)
    now = next(moments)
    first, second = _take(meters, 2), _take(meters, 3)
    request_pings(session, limits, first, PingReason.MANUAL, now=now)
    later = request_pings(
        session, limits, second, PingReason.MANUAL, now=now + timedelta(seconds=30)
    )
    assert (later.asked, later.deferred) == (second[:1], second[1:])


def test_the_budget_is_whole_again_a_minute_later(
    session: Session, meters: Iterator[str], moments: Iterator[datetime]
) -> None:
    limits = HeadEndLimits(max_batch=10, max_per_minute=2)
    now = next(moments)
    request_pings(session, limits, _take(meters, 2), PingReason.MANUAL, now=now)
    later = _take(meters, 2)
    batch = request_pings(session, limits, later, PingReason.MANUAL, now=now + timedelta(minutes=2))
    assert batch.asked == later


def test_a_meter_waiting_for_its_answer_is_not_asked_again(
    session: Session, meters: Iterator[str], moments: Iterator[datetime]
) -> None:
    now = next(moments)
    meter = next(meters)
    request_pings(session, WIDE, [meter], PingReason.MANUAL, now=now)
    again = request_pings(session, WIDE, [meter], PingReason.SINGLE_CALL, now=now)
    assert (again.asked, again.pending) == ([], [meter])


def test_an_unknown_meter_is_not_asked(session: Session, moments: Iterator[datetime]) -> None:
    batch = request_pings(session, WIDE, ["M-nope"], PingReason.MANUAL, now=next(moments))
    assert (batch.asked, batch.unknown) == ([], ["M-nope"])


def test_pings_a_refusing_headend_did_not_take_are_sent_on_the_next_run(
    session: Session, meters: Iterator[str], moments: Iterator[datetime]
) -> None:
    now = next(moments)
    wanted = _take(meters, 3)
    batch = request_pings(session, WIDE, wanted, PingReason.MANUAL, now=now)
    headend = RecordingHeadEnd(refusals=1)
    send_pending(session, headend, now=now)
    send_pending(session, headend, now=now + timedelta(seconds=5))
    assert (batch.request_ids[0], wanted) in headend.taken
    sent = session.scalars(select(MeterPing.sent_at).where(MeterPing.meter_id.in_(wanted)))
    assert set(sent) == {now + timedelta(seconds=5)}


def test_requests_are_sent_whole_within_the_headends_minute(
    session: Session, meters: Iterator[str], moments: Iterator[datetime]
) -> None:
    now = next(moments)
    small = HeadEndLimits(max_batch=2, max_per_minute=100)
    batch = request_pings(session, small, _take(meters, 4), PingReason.MANUAL, now=now)
    headend = RecordingHeadEnd(limits=HeadEndLimits(max_batch=2, max_per_minute=3))
    send_pending(session, headend, now=now)
    first = [request_id for request_id, _ in headend.taken]
    send_pending(session, headend, now=now + timedelta(minutes=2))
    assert (first, [r for r, _ in headend.taken]) == (batch.request_ids[:1], batch.request_ids)


def test_a_ping_unanswered_past_the_wait_is_no_answer(
    session: Session, meters: Iterator[str], moments: Iterator[datetime]
) -> None:
    now = next(moments)
    meter = next(meters)
    request_pings(session, WIDE, [meter], PingReason.MANUAL, now=now)
    send_pending(session, RecordingHeadEnd(), now=now)
    expire_pings(session, now=now + timedelta(minutes=11), wait=timedelta(minutes=10))
    state = session.scalar(select(MeterPing.state).where(MeterPing.meter_id == meter))
    assert state is PingState.NO_ANSWER


def test_a_ping_never_sent_waits_in_the_outbox_past_the_wait(
    session: Session, meters: Iterator[str], moments: Iterator[datetime]
) -> None:
    """The head-end was away: its meter was never asked, so it did not fail to answer."""
    now = next(moments)
    meter = next(meters)
    request_pings(session, WIDE, [meter], PingReason.MANUAL, now=now)
    send_pending(session, RecordingHeadEnd(refusals=1), now=now)
    expire_pings(session, now=now + timedelta(minutes=11), wait=timedelta(minutes=10))
    state = session.scalar(select(MeterPing.state).where(MeterPing.meter_id == meter))
    assert state is PingState.PENDING


def test_an_answer_sent_twice_is_recorded_once(
    head_end: TestClient, ami_database: str, meters: Iterator[str], moments: Iterator[datetime]
) -> None:
    now = datetime.now(UTC)
    meter = next(meters)
    request_id = _asked(ami_database, [meter], next(moments))
    body = {"answers": [_answer(request_id, meter, "on", now)]}
    first = head_end.post(ANSWERS, json=body).json()
    again = head_end.post(ANSWERS, json=body).json()
    assert (first["recorded"], again["recorded"], again["settled_before"]) == (1, 0, 1)
    with session_scope(session_factory(ami_database)) as session:
        events = session.scalars(select(MeterEvent.kind).where(MeterEvent.meter_id == meter))
        assert list(events) == ["power_restored"]


def test_an_answer_to_no_ping_is_listed_unknown(
    head_end: TestClient, ami_database: str, meters: Iterator[str], moments: Iterator[datetime]
) -> None:
    meter = next(meters)
    request_id = _asked(ami_database, [meter], next(moments))
    now = datetime.now(UTC)
    body = {"answers": [_answer(request_id, meter, "on", now), _answer("r-x", "M-nope", "on", now)]}
    response = head_end.post(ANSWERS, json=body)
    assert response.status_code == 200
    assert (response.json()["recorded"], response.json()["unknown"]) == (1, ["M-nope"])


def test_a_malformed_answer_is_rejected_alone(
    head_end: TestClient, ami_database: str, meters: Iterator[str], moments: Iterator[datetime]
) -> None:
    meter = next(meters)
    request_id = _asked(ami_database, [meter], next(moments))
    now = datetime.now(UTC)
    body = {
        "answers": [{"meter_id": meter, "state": "maybe"}, _answer(request_id, meter, "off", now)]
    }
    answer = head_end.post(ANSWERS, json=body).json()
    assert (answer["recorded"], answer["rejected_count"], answer["rejected"][0]["index"]) == (
        1,
        1,
        0,
    )


def test_an_off_answer_reaches_the_engine_as_the_premise_out(
    head_end: TestClient, ami_database: str, moments: Iterator[datetime]
) -> None:
    with session_scope(session_factory(ami_database)) as session:
        meter, account = session.execute(
            select(Premise.meter_id, Customer.account)
            .join(Customer, Customer.premise_id == Premise.id)
            .where(Premise.meter_id.is_not(None))
            .order_by(Premise.id.desc())
            .limit(1)
        ).one()
    request_id = _asked(ami_database, [meter], next(moments))
    now = datetime.now(UTC)
    head_end.post(ANSWERS, json={"answers": [_answer(request_id, meter, "off", now)]})
    with session_scope(session_factory(ami_database)) as session:
        found = gather(session, now=now + timedelta(seconds=1), window=HOUR)
    assert EvidenceKind.LAST_GASP in {e.kind for e in found.items if e.account == account}


def test_the_http_headend_pings_and_its_answers_come_back_through_the_api(
    head_end: TestClient, ami_database: str, meters: Iterator[str]
) -> None:
    off, on = _take(meters, 2)
    answers: list[dict[str, str]] = []
    both = threading.Event()

    def collect(batch: list[dict[str, str]]) -> None:
        answers.extend(batch)
        if len(answers) == 2:
            both.set()

    field = SimulatedHeadEnd(
        collect, lambda meter: meter == off, latency_s=(0.0, 0.1), loss=0.0, seed=1
    )
    with field:
        headend = HttpHeadEnd(field.url, WIDE)
        now = datetime.now(UTC)
        with session_scope(session_factory(ami_database)) as session:
            batch = request_pings(session, WIDE, [off, on], PingReason.VERIFY_INCIDENT, now=now)
        with session_scope(session_factory(ami_database)) as session:
            send_pending(session, headend, now=now)
        assert both.wait(timeout=30)
    head_end.post(ANSWERS, json={"answers": answers})
    states = _states(ami_database, batch.request_ids[0])
    assert states == {off: PingState.OFF, on: PingState.ON}


def test_an_answers_meter_event_is_keyed_by_its_premises_substation(
    head_end: TestClient, ami_database: str, meters: Iterator[str], moments: Iterator[datetime]
) -> None:
    meter = next(meters)
    request_id = _asked(ami_database, [meter], next(moments))
    head_end.post(ANSWERS, json={"answers": [_answer(request_id, meter, "off", datetime.now(UTC))]})
    with session_scope(session_factory(ami_database)) as session:
        stored, home = session.execute(
            select(MeterEvent.substation_id, Feeder.substation_id)
            .join(Premise, Premise.id == MeterEvent.premise_id)
            .join(Feeder, Feeder.id == Premise.feeder_id)
            .where(MeterEvent.meter_id == meter)
        ).one()
    assert stored == home != UNPLACED
