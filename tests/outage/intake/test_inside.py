"""A lone caller's meter that answers "on": their open reports close as inside the
premise, each told once through the outbox, and their ticket says so."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.db import session_factory
from outage.grid.models import Customer, Device, Premise
from outage.i18n import Language
from outage.incidents.changes import open_incident
from outage.incidents.progress import report_progress
from outage.intake.enums import (
    Channel,
    MatchMethod,
    PingReason,
    ReportOutcome,
    ReportStatus,
)
from outage.intake.headend import HeadEndLimits
from outage.intake.models import Report
from outage.intake.pings import record_answers, request_pings
from outage.intake.progress import describe
from outage.intake.schemas import PingAnswersIn
from outage.outbox.enums import EventKind
from outage.outbox.models import NotificationEvent
from outage.tickets import new_ticket

WIDE = HeadEndLimits(max_batch=100, max_per_minute=1000)
MAX_AGE = timedelta(days=30)
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def moments() -> Iterator[datetime]:
    """A moment per test, hours apart, so no test counts another's pings in its minute."""
    start = datetime.now(UTC) - timedelta(hours=300)
    return (start + n * timedelta(hours=1) for n in count())


@pytest.fixture
def session(ami_database: str) -> Iterator[Session]:
    """Work rolled back afterwards."""
    session = session_factory(ami_database)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@pytest.fixture
def caller(session: Session, meters: Iterator[str]) -> tuple[str, Customer]:
    """A meter whose premise has a customer, and that customer."""
    while True:
        meter = next(meters)
        customer = session.scalar(
            select(Customer)
            .join(Premise, Premise.id == Customer.premise_id)
            .where(Premise.meter_id == meter)
        )
        if customer is not None:
            return meter, customer


def _report(session: Session, customer: Customer, at: datetime, **changes: object) -> Report:
    values: dict[str, object] = {
        "ticket": new_ticket(at, 5),
        "channel": Channel.SMS,
        "status": ReportStatus.RECEIVED,
        "received_at": at,
        "phone": customer.phone,
        "customer_id": customer.id,
        "premise_id": customer.premise_id,
        "match_method": MatchMethod.PHONE,
        "match_confidence": 1.0,
    }
    report = Report(**{**values, **changes})
    session.add(report)
    session.flush()
    return report


def _answer(session: Session, meter: str, state: str, at: datetime, reason: PingReason) -> None:
    """Ask the meter for `reason`, and take its answer `state` at `at`."""
    batch = request_pings(session, WIDE, [meter], reason, now=at - timedelta(minutes=1))
    _answer_again(session, batch.request_ids[0], meter, state, at)


def _answer_again(session: Session, request_id: str, meter: str, state: str, at: datetime) -> None:
    answer = {"request_id": request_id, "meter_id": meter, "state": state}
    batch = PingAnswersIn(answers=[{**answer, "answered_at": at.isoformat()}])
    record_answers(session, batch, now=at + timedelta(seconds=5), max_age=MAX_AGE)


def _events(session: Session, report: Report) -> list[NotificationEvent]:
    return list(
        session.scalars(select(NotificationEvent).where(NotificationEvent.report_id == report.id))
    )


def test_an_on_to_a_single_call_ping_closes_the_callers_report_inside_the_premise(
    session: Session, caller: tuple[str, Customer], moments: Iterator[datetime]
) -> None:
    meter, customer = caller
    now = next(moments)
    report = _report(session, customer, now - timedelta(minutes=5))
    _answer(session, meter, "on", now, PingReason.SINGLE_CALL)
    session.refresh(report)
    assert (report.status, report.outcome, report.closed_at) == (
        ReportStatus.CLOSED,
        ReportOutcome.INSIDE_PREMISE,
        now,
    )


def test_the_caller_is_told_once_even_when_the_answer_comes_twice(
    session: Session, caller: tuple[str, Customer], moments: Iterator[datetime]
) -> None:
    meter, customer = caller
    now = next(moments)
    report = _report(session, customer, now - timedelta(minutes=5))
    batch = request_pings(
        session, WIDE, [meter], PingReason.SINGLE_CALL, now=now - timedelta(minutes=1)
    )
    _answer_again(session, batch.request_ids[0], meter, "on", now)
    _answer_again(session, batch.request_ids[0], meter, "on", now)
    events = _events(session, report)
    assert [(e.kind, e.details) for e in events] == [
        (EventKind.INSIDE_PREMISE, {"ticket": report.ticket})
    ]


def test_an_off_answer_closes_nothing(
    session: Session, caller: tuple[str, Customer], moments: Iterator[datetime]
) -> None:
    meter, customer = caller
    now = next(moments)
    report = _report(session, customer, now - timedelta(minutes=5))
    _answer(session, meter, "off", now, PingReason.SINGLE_CALL)
    session.refresh(report)
    assert (report.status, _events(session, report)) == (ReportStatus.RECEIVED, [])


@pytest.mark.parametrize("reason", [PingReason.VERIFY_INCIDENT, PingReason.RESTORATION])
def test_an_on_to_a_ping_of_another_reason_closes_nothing(
    session: Session,
    caller: tuple[str, Customer],
    moments: Iterator[datetime],
    reason: PingReason,
) -> None:
    meter, customer = caller
    now = next(moments)
    report = _report(session, customer, now - timedelta(minutes=5))
    _answer(session, meter, "on", now, reason)
    session.refresh(report)
    assert (report.status, _events(session, report)) == (ReportStatus.RECEIVED, [])


def test_a_report_on_an_incident_is_left_to_it(
    session: Session, caller: tuple[str, Customer], moments: Iterator[datetime]
) -> None:
    meter, customer = caller
    now = next(moments)
    transformer = session.scalar(
        select(Device.asset_ref)
        .join(Premise, Premise.transformer_id == Device.id)
        .where(Premise.id == customer.premise_id)
    )
    assert transformer is not None
    incident_id = open_incident(
        session,
        device_asset_ref=transformer,
        confidence=0.8,
        customers_affected=1,
        started_at=now - timedelta(minutes=10),
        reason="test outage",
    )
    report = _report(session, customer, now - timedelta(minutes=5), incident_id=incident_id)
    _answer(session, meter, "on", now, PingReason.SINGLE_CALL)
    session.refresh(report)
    assert (report.status, _events(session, report)) == (ReportStatus.RECEIVED, [])


def test_a_report_received_after_the_answer_stays_open(
    session: Session, caller: tuple[str, Customer], moments: Iterator[datetime]
) -> None:
    meter, customer = caller
    now = next(moments)
    later = _report(session, customer, now + timedelta(minutes=1))
    _answer(session, meter, "on", now, PingReason.SINGLE_CALL)
    session.refresh(later)
    assert later.status is ReportStatus.RECEIVED


def test_the_ticket_says_closed_power_reaches_the_meter_and_how_to_ask_for_a_visit(
    session: Session, caller: tuple[str, Customer], moments: Iterator[datetime]
) -> None:
    meter, customer = caller
    now = next(moments)
    report = _report(session, customer, now - timedelta(minutes=5))
    _answer(session, meter, "on", now, PingReason.SINGLE_CALL)
    progress = report_progress(session, report.ticket)
    assert progress is not None
    english = describe(progress, Language.EN, ZONE)
    vietnamese = describe(progress, Language.VI, ZONE)
    assert "closed" in english and "meter has power" in english
    assert "main breaker" in english and f"VISIT {report.ticket}" in english
    assert "đã đóng" in vietnamese and "aptomat" in vietnamese
    assert f"KIEMTRA {report.ticket}" in vietnamese


def test_the_public_answer_says_closed_without_the_callers_meter(
    session: Session, caller: tuple[str, Customer], moments: Iterator[datetime]
) -> None:
    meter, customer = caller
    now = next(moments)
    report = _report(session, customer, now - timedelta(minutes=5))
    _answer(session, meter, "on", now, PingReason.SINGLE_CALL)
    progress = report_progress(session, report.ticket, personal=False)
    assert progress is not None
    public = describe(progress, Language.EN, ZONE)
    assert "closed" in public and "main breaker" in public and "your meter" not in public


def test_a_hazard_report_stays_open(
    session: Session, caller: tuple[str, Customer], moments: Iterator[datetime]
) -> None:
    meter, customer = caller
    now = next(moments)
    hazard = _report(session, customer, now - timedelta(minutes=5), service_code="hazard")
    _answer(session, meter, "on", now, PingReason.SINGLE_CALL)
    session.refresh(hazard)
    assert hazard.status is ReportStatus.RECEIVED
