"""A restoration stores its incident's interruption records as it ends it."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grid_topology.topology import Network, Topology
from outage.incidents.changes import restore
from outage.incidents.models import Interruption

from .conftest import Places

OpenOn = Callable[..., int]


def _records(session: Session, incident_id: int) -> int:
    return session.scalar(select(func.count()).where(Interruption.incident_id == incident_id)) or 0


def test_a_restoration_stores_the_customers_below_on_the_network_it_is_given(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    """An engine's region is the network it restores on: it loads no copy of the rest to
    find whose interruption ended."""
    incident_id = open_on(session, places.head)
    elsewhere = Topology(Network(links={}, sources=frozenset()))
    at = datetime.now(UTC) + timedelta(minutes=1)
    restore(session, incident_id, at=at, reason="SCADA: closed", topology=elsewhere)
    assert _records(session, incident_id) == 0


def test_a_restoration_without_a_network_stores_the_customers_below_on_the_process_s(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    incident_id = open_on(session, places.head)
    at = datetime.now(UTC) + timedelta(minutes=1)
    restore(session, incident_id, at=at, reason="SCADA: closed")
    assert _records(session, incident_id) > 0
