"""What customers hear of a switching order: planned-outage notices ahead of its window,
and restorations when a step gives supply back to part of an outage."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from grid_topology.model import GridModel
from grid_topology.topology import Network, Topology
from outage.app import create_app
from outage.db import session_factory, session_scope
from outage.grid import switching
from outage.grid.enums import SwitchSource
from outage.incidents.actions import apply_action
from outage.incidents.changes import open_incident
from outage.incidents.enums import Action
from outage.incidents.models import Incident
from outage.incidents.schemas import IncidentPatch
from outage.outbox.enums import EventKind
from outage.outbox.models import NotificationEvent
from tests.conftest import issue_credentials, own_database

from .conftest import Feeders, Orders

NOW = datetime.now(UTC).replace(microsecond=0)
TOMORROW = NOW + timedelta(days=1)
WINDOW = {
    "planned_start": TOMORROW.isoformat(),
    "planned_end": (TOMORROW + timedelta(hours=4)).isoformat(),
}
"""An order's window far enough ahead for notices."""


@pytest.fixture(scope="module")
def normal(sample_grid: GridModel) -> Topology:
    return Topology(Network.from_model(sample_grid))


@pytest.fixture
def fresh(database_url: str, sample_grid: GridModel) -> Iterator[tuple[str, Orders]]:
    """A network of its own, and orders over an API client on it: these tests trip a
    feeder and leave it switched."""
    with (
        own_database(database_url, "order_notices", sample_grid) as url,
        TestClient(create_app(url)) as client,
    ):
        yield url, Orders(client, issue_credentials(url))


def _trip_with_outage(
    url: str, feeders: Feeders, *, customers: int = 10_000, crew_on_site: int | None = None
) -> int:
    """The feeder's head trips; an outage of `customers` is open on it (with a crew on
    site, if given)."""
    with session_scope(session_factory(url)) as session:
        switching.operate(
            session,
            feeders.head,
            is_open=True,
            occurred_at=NOW - timedelta(minutes=30),
            source=SwitchSource.SCADA,
            actor="scada",
        )
        incident = open_incident(
            session,
            device_asset_ref=feeders.head,
            confidence=0.9,
            customers_affected=customers,
            started_at=NOW - timedelta(minutes=30),
            reason="breaker tripped",
        )
        if crew_on_site is not None:
            apply_action(
                session, incident, IncidentPatch(action=Action.ASSIGN, crew_id=crew_on_site), "t"
            )
            apply_action(session, incident, IncidentPatch(action=Action.ON_SITE), "t")
    return incident


def _restored_accounts(url: str, incident: int) -> list[set[str]]:
    """The accounts each of the incident's restored messages goes to."""
    with session_scope(session_factory(url)) as session:
        rows = session.scalars(
            select(NotificationEvent.accounts)
            .where(
                NotificationEvent.incident_id == incident,
                NotificationEvent.kind == EventKind.RESTORED,
            )
            .order_by(NotificationEvent.id)
        )
        return [set(accounts or ()) for accounts in rows]


def test_a_step_feeding_part_of_an_outage_restores_it_in_part(
    fresh: tuple[str, Orders], feeders: Feeders, normal: Topology
) -> None:
    url, orders = fresh
    incident = _trip_with_outage(url, feeders, crew_on_site=orders.credentials.crew_id)
    orders.carried_out(("open", feeders.section), ("close", feeders.tie))
    back = normal.downstream(feeders.section).accounts
    with session_scope(session_factory(url)) as session:
        restored = session.get_one(Incident, incident)
        assert restored.status == "partially_restored"
        everyone = normal.downstream(feeders.head).accounts
        assert restored.customers_affected == len(everyone - back)
    assert _restored_accounts(url, incident) == [set(back)]


def test_a_step_feeding_the_whole_outage_restores_it(
    fresh: tuple[str, Orders], feeders: Feeders
) -> None:
    url, orders = fresh
    incident = _trip_with_outage(url, feeders, customers=1)
    orders.carried_out(("close", feeders.tie))
    with session_scope(session_factory(url)) as session:
        assert session.get_one(Incident, incident).status == "restored"


def _planned_outages(orders: Orders) -> Any:
    return orders.client.get("/api/v1/planned-outages", headers=orders.credentials.staff()).json()


def test_an_order_with_a_window_ahead_notices_the_customers_its_openings_interrupt(
    fresh: tuple[str, Orders], feeders: Feeders
) -> None:
    _, orders = fresh
    orders.approve(orders.draft(("open", feeders.section), **WINDOW))
    [planned] = _planned_outages(orders)
    assert planned["device"] == feeders.section and planned["customers"] > 0
    assert planned["notice_queued_at"] is not None


def test_aborting_the_order_cancels_its_planned_outage(
    fresh: tuple[str, Orders], feeders: Feeders
) -> None:
    _, orders = fresh
    orders.abort(orders.approve(orders.draft(("open", feeders.section), **WINDOW)))
    [planned] = _planned_outages(orders)
    assert planned["status"] == "cancelled"
