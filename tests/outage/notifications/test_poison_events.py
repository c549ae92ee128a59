"""One event that cannot be fanned out fails alone: retried with a back-off, then
dead-lettered with its reason, while every other customer is still told."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from outage.db import session_scope
from outage.incidents.changes import set_etr
from outage.incidents.models import Incident
from outage.notifications.delivery import Worker
from outage.notifications.enums import DeliveryStatus
from outage.notifications.fanout import Fanout, pending_events
from outage.outbox.enums import EventKind
from outage.outbox.models import NotificationEvent
from outage.settings import Settings

from .conftest import Drain, Grid, customer_ids, messages_of

FAR_FUTURE = "9999-12-31T20:00:00+00:00"
"""Past the last year a datetime holds once shown in a zone east of UTC."""


def _event(sessions: sessionmaker[Session], incident_id: int, **details: Any) -> int:
    """Queue an ETR event straight into the outbox, as a row written before validation."""
    with session_scope(sessions) as session:
        incident = session.get_one(Incident, incident_id)
        event = NotificationEvent(
            kind=EventKind.ETR_SET,
            incident_id=incident_id,
            device_id=incident.device_id,
            details=details,
        )
        session.add(event)
        session.flush()
        return event.id


def _first_event(sessions: sessionmaker[Session], incident_id: int) -> int:
    """The event its opening wrote (outage detected)."""
    with sessions() as session:
        first = session.scalar(
            select(func.min(NotificationEvent.id)).where(
                NotificationEvent.incident_id == incident_id
            )
        )
    assert first is not None
    return first


def _stored(sessions: sessionmaker[Session], event_id: int) -> NotificationEvent:
    with sessions() as session:
        return session.get_one(NotificationEvent, event_id)


def test_an_etr_no_message_can_show_is_dead_lettered_with_its_reason(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage: Callable[..., int]
) -> None:
    poisoned = open_outage(grid.fuse)
    poison = _event(sessions, poisoned, etr=FAR_FUTURE)
    drain()
    event = _stored(sessions, poison)
    assert event.dead_at is not None and event.expanded_at is None
    assert "cannot be shown in local time" in (event.last_error or "")
    assert event.attempts == 1
    with sessions() as session:
        assert pending_events(session) == 0


def test_a_dead_event_holds_back_no_other_incident(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage: Callable[..., int]
) -> None:
    poisoned = open_outage(grid.fuse)
    _event(sessions, poisoned, etr=FAR_FUTURE)
    other = open_outage(grid.other_fuse)
    drain()
    with sessions() as session:
        told = {m.customer_id for m in messages_of(session, other)}
        assert told == set(customer_ids(session, grid.accounts[grid.other_fuse]))
        assert all(m.status is DeliveryStatus.SENT for m in messages_of(session, other))


def test_a_sane_etr_after_a_dead_one_reaches_the_customers(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage: Callable[..., int]
) -> None:
    incident = open_outage(grid.fuse)
    _event(sessions, incident, etr=FAR_FUTURE)
    drain()
    with session_scope(sessions) as session:
        set_etr(session, incident, etr=datetime.now(UTC) + timedelta(hours=3))
    drain()
    with sessions() as session:
        etr_messages = [m for m in messages_of(session, incident) if m.kind is EventKind.ETR_SET]
        downstream = set(customer_ids(session, grid.accounts[grid.fuse]))
    assert {m.customer_id for m in etr_messages} == downstream
    assert all(m.status is DeliveryStatus.SENT for m in etr_messages)


class _Failing(Fanout):
    """Fails every fan-out of one event, as a bug or a broken row would."""

    def __init__(self, settings: Settings, event_id: int) -> None:
        super().__init__(settings)
        self.event_id = event_id

    def _customers(self, session: Session, event: NotificationEvent) -> set[int]:
        if event.id == self.event_id:
            raise RuntimeError("fan-out broke")
        return super()._customers(session, event)


def test_a_failing_event_is_retried_with_a_back_off_then_dead_lettered(
    sessions: sessionmaker[Session],
    settings: Settings,
    grid: Grid,
    open_outage: Callable[..., int],
) -> None:
    incident = open_outage(grid.fuse)
    first = _first_event(sessions, incident)
    settings = settings.model_copy(update={"notify_max_attempts": 3})
    worker = Worker(sessions, settings, fanout=_Failing(settings, first))
    start = datetime.now(UTC)
    worker.expand(now=start)
    event = _stored(sessions, first)
    assert (event.attempts, event.dead_at) == (1, None)
    assert "RuntimeError: fan-out broke" in (event.last_error or "")
    assert event.next_attempt_at is not None and event.next_attempt_at > start
    worker.expand(now=start)
    assert _stored(sessions, first).attempts == 1  # not before its back-off ends
    for tries in range(2):
        worker.expand(now=start + timedelta(minutes=10 * (tries + 1)))
    event = _stored(sessions, first)
    assert event.attempts == 3 and event.dead_at is not None


def test_a_retried_event_holds_back_its_own_incidents_later_events(
    sessions: sessionmaker[Session],
    settings: Settings,
    grid: Grid,
    open_outage: Callable[..., int],
) -> None:
    incident = open_outage(grid.fuse)
    first = _first_event(sessions, incident)
    later = _event(sessions, incident, etr=(datetime.now(UTC) + timedelta(hours=2)).isoformat())
    worker = Worker(sessions, settings, fanout=_Failing(settings, first))
    worker.expand()
    assert _stored(sessions, later).expanded_at is None
    with sessions() as session:
        assert messages_of(session, incident) == []
