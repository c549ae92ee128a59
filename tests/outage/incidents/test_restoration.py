"""Restoration by switching, the one way for a dispatcher and a switching order: exactly
the customers back are restored, told and named, and the reliability records bring
exactly them back at that time. On a database of its own: the tests switch."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_topology.model import GridModel
from grid_topology.topology import Network, Topology
from outage.grid.history import NetworkHistory
from outage.grid.live import LiveTopology
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.models import Incident
from outage.incidents.restoration import restore_by_switching
from outage.outbox.enums import EventKind
from outage.outbox.models import NotificationEvent
from outage.reliability.records import load_histories
from tests.conftest import own_database, rolled_back

from .conftest import Transfer, events_of, trip_and_transfer


@pytest.fixture(scope="module")
def restoration_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "restoration", sample_grid) as url:
        yield url


@pytest.fixture
def session(restoration_database: str) -> Iterator[Session]:
    with rolled_back(restoration_database) as db:
        yield db


@pytest.fixture(scope="module")
def back(sample_grid: GridModel, transfer: Transfer) -> frozenset[str]:
    """The customers the neighbouring feeder picks up through the tie."""
    return Topology(Network.from_model(sample_grid)).downstream(transfer.section).accounts


def _restore(
    session: Session, incident_id: int, gained: frozenset[str] | None = None
) -> tuple[str, ...]:
    live = LiveTopology()
    return restore_by_switching(
        session,
        incident_id,
        history=NetworkHistory.load(session, live.get(session)),
        energized=live.energized(session),
        at=None,
        actor="dispatcher-1",
        reason=None,
        gained=gained,
    )


def test_exactly_the_customers_back_are_restored_and_named(
    session: Session, transfer: Transfer, back: frozenset[str]
) -> None:
    incident_id = trip_and_transfer(session, transfer)
    assert set(_restore(session, incident_id)) == back
    [partial] = [e for e in events_of(session, incident_id) if e.action == "partially_restored"]
    assert set(partial.details["accounts"]) == back
    assert session.get_one(Incident, incident_id).status is IncidentStatus.PARTIALLY_RESTORED


def test_exactly_the_customers_back_are_told(
    session: Session, transfer: Transfer, back: frozenset[str]
) -> None:
    incident_id = trip_and_transfer(session, transfer)
    _restore(session, incident_id)
    told = session.scalars(
        select(NotificationEvent.accounts).where(
            NotificationEvent.incident_id == incident_id,
            NotificationEvent.kind == EventKind.RESTORED,
        )
    ).all()
    assert [set(accounts or ()) for accounts in told] == [set(back)]


def test_customers_told_once_are_not_restored_again(session: Session, transfer: Transfer) -> None:
    incident_id = trip_and_transfer(session, transfer)
    _restore(session, incident_id)
    assert _restore(session, incident_id) == ()


def test_an_incident_none_of_whose_customers_the_switching_fed_is_left_alone(
    session: Session, transfer: Transfer
) -> None:
    incident_id = trip_and_transfer(session, transfer)
    assert _restore(session, incident_id, gained=frozenset({"someone else"})) == ()
    assert session.get_one(Incident, incident_id).status is IncidentStatus.CONFIRMED


def test_the_reliability_records_bring_exactly_them_back_at_that_time(
    session: Session, transfer: Transfer, back: frozenset[str]
) -> None:
    incident_id = trip_and_transfer(session, transfer)
    _restore(session, incident_id)
    session.flush()
    now = datetime.now(UTC)
    histories = load_histories(
        session, start=now - timedelta(hours=1), end=now + timedelta(minutes=1), as_of=now
    )
    [history] = [h for h in histories if h.event == f"incident/{incident_id}"]
    [step] = history.steps
    assert step.accounts == back and now - step.at < timedelta(minutes=1)
