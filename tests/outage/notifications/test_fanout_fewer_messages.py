"""Fewer and better outage messages: the first notice waits for its ETR, small ETR changes
are not told, better news carries no apology, and messages name the cause, the area, the
customer's own ticket and when their power came back."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from dispatch.etr import EtrSource
from outage.db import session_scope
from outage.grid.models import Customer, Feeder
from outage.i18n import dates
from outage.incidents.changes import open_incident, restore, set_etr
from outage.incidents.enums import IncidentKind
from outage.incidents.models import Incident
from outage.incidents.outbox import incident_event
from outage.intake.channels.texts import sms_text
from outage.intake.enums import Channel, Hazard, MatchMethod, ReportStatus
from outage.intake.models import Report
from outage.notifications.delivery import Worker
from outage.notifications.enums import DeliveryStatus
from outage.notifications.etr_policy import NOTICE
from outage.notifications.models import Notification
from outage.outbox.enums import EventKind
from outage.settings import Settings

from .conftest import Drain, Grid, customer_ids, messages_of

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def held(sessions: sessionmaker[Session], settings: Settings) -> Worker:
    """A worker whose first notices wait two minutes for an ETR, as in service."""
    waiting = settings.model_copy(update={"notify_first_etr_wait_minutes": timedelta(minutes=2)})
    return Worker(sessions, waiting)


def _etr_in(sessions: sessionmaker[Session], incident: int, hours: float) -> datetime:
    etr = (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)
    with session_scope(sessions) as session:
        set_etr(session, incident, etr=etr, source=EtrSource.DISPATCHER)
    return etr


def _shown(moment: datetime, message: Notification) -> str:
    """A time as the message's SMS writes it."""
    return sms_text(dates.write(moment.astimezone(ZONE), dates.Form.DAY_TIME, message.language))


def _kinds(sessions: sessionmaker[Session], incident: int) -> Counter[EventKind]:
    with sessions() as session:
        return Counter(m.kind for m in messages_of(session, incident))


def _end_the_waits(sessions: sessionmaker[Session], incident: int) -> None:
    """Every message of the incident waiting is due now, as if its wait were over."""
    with session_scope(sessions) as session:
        session.execute(
            update(Notification)
            .where(Notification.incident_id == incident)
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def test_a_first_notice_waits_for_the_first_etr(
    sessions: sessionmaker[Session], drain: Drain, held: Worker, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    drain(using=held)
    with sessions() as session:
        [message, *_] = messages_of(session, incident)
    assert message.status is DeliveryStatus.PENDING
    assert message.due_at > datetime.now(UTC) + timedelta(minutes=1)


def test_an_etr_set_during_the_wait_rides_in_the_first_notice(
    sessions: sessionmaker[Session], drain: Drain, held: Worker, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    drain(using=held)
    etr = _etr_in(sessions, incident, 2)
    drain(using=held)
    with sessions() as session:
        messages = messages_of(session, incident)
    assert _kinds(sessions, incident) == {EventKind.OUTAGE_DETECTED: len(grid.accounts[grid.fuse])}
    assert all(_shown(etr, m) in m.body for m in messages)


def test_a_first_notice_without_an_etr_goes_alone_when_the_wait_ends(
    sessions: sessionmaker[Session], drain: Drain, held: Worker, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    drain(using=held)
    _end_the_waits(sessions, incident)
    drain(using=held)
    with sessions() as session:
        messages = messages_of(session, incident)
    assert len(messages) == len(grid.accounts[grid.fuse])
    assert all(m.status is DeliveryStatus.SENT for m in messages)


def test_a_safety_notice_never_waits(
    sessions: sessionmaker[Session], drain: Drain, held: Worker, grid: Grid
) -> None:
    with session_scope(sessions) as session:
        hazard = open_incident(
            session,
            kind=IncidentKind.HAZARD,
            account=sorted(grid.accounts[grid.fuse])[0],
            hazard=Hazard.WIRES_DOWN,
            confidence=1.0,
            customers_affected=0,
            started_at=datetime.now(UTC),
            reason="wires down",
        )
    drain(using=held)
    with sessions() as session:
        [message] = messages_of(session, hazard)
    assert message.safety and message.status is DeliveryStatus.SENT


def test_an_earlier_etr_within_the_threshold_is_not_told(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    _etr_in(sessions, incident, 2)
    drain()
    _etr_in(sessions, incident, 2 - 10 / 60)
    drain()
    assert _kinds(sessions, incident)[EventKind.ETR_CHANGED] == 0


def test_a_small_later_etr_waits_until_just_before_the_told_one_would_pass(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    told = _etr_in(sessions, incident, 2)
    drain()
    _etr_in(sessions, incident, 2 + 10 / 60)
    drain()
    with sessions() as session:
        changes = [m for m in messages_of(session, incident) if m.kind is EventKind.ETR_CHANGED]
    assert len(changes) == len(grid.accounts[grid.fuse])
    assert all(m.status is DeliveryStatus.PENDING for m in changes)
    assert all(m.due_at == told - NOTICE for m in changes)


def test_small_etr_changes_add_up_to_one_worth_telling(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    _etr_in(sessions, incident, 2)
    drain()
    for minutes in (10, 20):
        _etr_in(sessions, incident, 2 + minutes / 60)
        drain()
    assert _kinds(sessions, incident)[EventKind.ETR_CHANGED] == len(grid.accounts[grid.fuse])


def test_an_etr_change_goes_at_once_when_the_interval_has_passed(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    _etr_in(sessions, incident, 2)
    drain()
    with session_scope(sessions) as session:
        session.execute(
            update(Notification)
            .where(Notification.incident_id == incident)
            .values(due_at=Notification.due_at - timedelta(minutes=31))
        )
    _etr_in(sessions, incident, 3)
    drain()
    with sessions() as session:
        changes = [m for m in messages_of(session, incident) if m.kind is EventKind.ETR_CHANGED]
    assert changes and all(m.status is DeliveryStatus.SENT for m in changes)


def _change_bodies(sessions: sessionmaker[Session], incident: int) -> list[str]:
    with sessions() as session:
        return [m.body for m in messages_of(session, incident) if m.kind is EventKind.ETR_CHANGED]


def test_an_earlier_etr_is_told_as_good_news_without_an_apology(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    _etr_in(sessions, incident, 3)
    drain()
    _etr_in(sessions, incident, 2)
    drain()
    bodies = _change_bodies(sessions, incident)
    assert bodies and all("Sorry" not in b and "Xin loi" not in b for b in bodies)
    assert all("good news" in b or "tin vui" in b for b in bodies)


def test_a_later_etr_comes_with_an_apology(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    _etr_in(sessions, incident, 2)
    drain()
    _etr_in(sessions, incident, 3)
    drain()
    bodies = _change_bodies(sessions, incident)
    assert bodies and all("Sorry" in b or "Xin loi" in b for b in bodies)


def test_an_etr_message_names_the_cause_and_the_feeder(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    drain()
    with session_scope(sessions) as session:
        outage = session.get_one(Incident, incident)
        outage.cause = "lightning"
        feeder = session.scalar(select(Feeder.name).where(Feeder.id == outage.feeder_id))
    _etr_in(sessions, incident, 2)
    drain()
    with sessions() as session:
        told = [m for m in messages_of(session, incident) if m.kind is EventKind.ETR_SET]
    assert feeder is not None and told
    assert all(sms_text(feeder[:12]) in m.body for m in told)
    assert all("Lightning" in m.body or "Set" in m.body for m in told)


def test_a_customer_who_reported_is_told_their_ticket(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    account = sorted(grid.accounts[grid.fuse])[0]
    with session_scope(sessions) as session:
        customer = session.scalar(select(Customer.id).where(Customer.account == account))
        session.add(
            Report(
                ticket="261206-TICKET",
                channel=Channel.SMS,
                status=ReportStatus.RECEIVED,
                match_method=MatchMethod.ACCOUNT,
                match_confidence=1.0,
                candidates=[],
                customer_id=customer,
                incident_id=incident,
            )
        )
    drain()
    with sessions() as session:
        told = {m.customer_id: m.body for m in messages_of(session, incident)}
    assert "261206-TICKET" in told.pop(customer)
    assert told and all("261206-TICKET" not in body for body in told.values())


def test_an_estimates_range_rides_in_its_message(
    sessions: sessionmaker[Session], drain: Drain, held: Worker, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    drain(using=held)
    etr = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    earliest, latest = etr - timedelta(minutes=40), etr + timedelta(minutes=70)
    with session_scope(sessions) as session:
        set_etr(session, incident, etr=etr, likely=(earliest, latest))
    drain(using=held)
    with sessions() as session:
        messages = messages_of(session, incident)
    ends = [f"{moment.astimezone(ZONE):%H:%M}" for moment in (earliest, latest)]
    assert messages and all(end in m.body for m in messages for end in ends)


def test_power_back_says_when_it_came_back(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    back = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=3)
    with session_scope(sessions) as session:
        restore(session, incident, at=back, reason="SCADA: closed")
    drain()
    with sessions() as session:
        told = [m for m in messages_of(session, incident) if m.kind is EventKind.RESTORED]
    assert told and all(_shown(back, m) in m.body for m in told)


def test_a_partial_restoration_says_when_those_customers_came_back(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    named = sorted(grid.accounts[grid.fuse])[:2]
    back = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=4)
    with session_scope(sessions) as session:
        outage = session.get_one(Incident, incident)
        incident_event(session, outage, EventKind.RESTORED, accounts=named, switching=True, at=back)
    drain()
    with sessions() as session:
        ids = customer_ids(session, frozenset(named))
        told = [m for m in messages_of(session, incident) if m.kind is EventKind.RESTORED]
    assert {m.customer_id for m in told} == set(ids)
    assert all(_shown(back, m) in m.body for m in told)
