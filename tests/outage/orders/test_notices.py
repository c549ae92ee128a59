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
from outage.auth.enums import Role
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
from tests.conftest import Credentials, issue_credentials, own_database

from .conftest import ORDERS, Feeders

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def normal(sample_grid: GridModel) -> Topology:
    return Topology(Network.from_model(sample_grid))


@pytest.fixture
def fresh(
    database_url: str, sample_grid: GridModel
) -> Iterator[tuple[str, TestClient, Credentials]]:
    """A network of its own: these tests trip a feeder and leave it switched."""
    with (
        own_database(database_url, "order_notices", sample_grid) as url,
        TestClient(create_app(url)) as client,
    ):
        yield url, client, issue_credentials(url)


def _run(
    client: TestClient, credentials: Credentials, *steps: tuple[str, str], **extra: Any
) -> dict[str, Any]:
    """Draft, approve and start the order, then carry out every step."""
    body = {
        "title": "restore from the neighbour",
        "steps": [{"action": a, "asset_ref": ref} for a, ref in steps],
        **extra,
    }
    dispatcher = credentials.staff(Role.DISPATCHER)
    order = client.post(ORDERS, json=body, headers=dispatcher).json()
    path = f"{ORDERS}/{order['id']}"
    client.post(f"{path}/approve", headers=credentials.staff(Role.SUPERVISOR)).raise_for_status()
    client.post(f"{path}/start", headers=dispatcher).raise_for_status()
    for position in range(1, len(steps) + 1):
        client.post(f"{path}/steps/{position}/execute", headers=dispatcher).raise_for_status()
    answer: dict[str, Any] = client.get(path, headers=dispatcher).json()
    return answer


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
    fresh: tuple[str, TestClient, Credentials], feeders: Feeders, normal: Topology
) -> None:
    url, client, credentials = fresh
    incident = _trip_with_outage(url, feeders, crew_on_site=credentials.crew_id)
    _run(client, credentials, ("open", feeders.section), ("close", feeders.tie))
    back = normal.downstream(feeders.section).accounts
    with session_scope(session_factory(url)) as session:
        restored = session.get_one(Incident, incident)
        assert restored.status == "partially_restored"
        everyone = normal.downstream(feeders.head).accounts
        assert restored.customers_affected == len(everyone - back)
    assert _restored_accounts(url, incident) == [set(back)]


def test_a_step_feeding_the_whole_outage_restores_it(
    fresh: tuple[str, TestClient, Credentials], feeders: Feeders
) -> None:
    url, client, credentials = fresh
    incident = _trip_with_outage(url, feeders, customers=1)
    _run(client, credentials, ("close", feeders.tie))
    with session_scope(session_factory(url)) as session:
        assert session.get_one(Incident, incident).status == "restored"


def test_an_order_with_a_window_ahead_notices_the_customers_its_openings_interrupt(
    fresh: tuple[str, TestClient, Credentials], feeders: Feeders
) -> None:
    _, client, credentials = fresh
    start = NOW + timedelta(days=1)
    body = {
        "title": "replace a pole",
        "steps": [{"action": "open", "asset_ref": feeders.section}],
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(hours=4)).isoformat(),
    }
    order = client.post(ORDERS, json=body, headers=credentials.staff(Role.DISPATCHER)).json()
    approve = f"{ORDERS}/{order['id']}/approve"
    client.post(approve, headers=credentials.staff(Role.SUPERVISOR)).raise_for_status()
    [planned] = client.get("/api/v1/planned-outages", headers=credentials.staff()).json()
    assert planned["device"] == feeders.section and planned["customers"] > 0
    assert planned["notice_queued_at"] is not None


def test_aborting_the_order_cancels_its_planned_outage(
    fresh: tuple[str, TestClient, Credentials], feeders: Feeders
) -> None:
    _, client, credentials = fresh
    start = NOW + timedelta(days=1)
    body = {
        "title": "replace a pole",
        "steps": [{"action": "open", "asset_ref": feeders.section}],
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(hours=4)).isoformat(),
    }
    order = client.post(ORDERS, json=body, headers=credentials.staff(Role.DISPATCHER)).json()
    path = f"{ORDERS}/{order['id']}"
    client.post(f"{path}/approve", headers=credentials.staff(Role.SUPERVISOR)).raise_for_status()
    client.post(f"{path}/abort", headers=credentials.staff(Role.DISPATCHER)).raise_for_status()
    [planned] = client.get("/api/v1/planned-outages", headers=credentials.staff()).json()
    assert planned["status"] == "cancelled"
