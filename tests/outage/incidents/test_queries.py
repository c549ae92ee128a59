"""Reading incidents: the active ones the prediction engine matches against."""

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from outage.db import session_factory, session_scope
from outage.grid.models import Device, Feeder
from outage.grid.regions import read_regions
from outage.incidents.changes import open_incident, restore
from outage.incidents.queries import active_incidents
from tests.outage.regions_grid import REGIONS

from .conftest import Places

OpenOn = Callable[..., int]


def test_active_incidents_leave_out_restored_ones(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    active = open_on(session, places.fuses[0])
    restored = open_on(session, places.fuses[2])
    restore(session, restored, at=datetime.now(UTC), reason="meters back")
    ids = {i.id for i in active_incidents(session)}
    assert active in ids
    assert restored not in ids


def test_active_single_service_incident_names_the_customers_account(
    session: Session, places: Places
) -> None:
    account = places.accounts[5]
    incident_id = open_incident(
        session,
        account=account,
        confidence=0.5,
        customers_affected=1,
        started_at=datetime.now(UTC),
        reason="lone call",
    )
    [found] = [i for i in active_incidents(session) if i.id == incident_id]
    assert found.accounts == (account,)
    assert found.device is None


def _open_on(url: str, device: str, open_on: OpenOn) -> int:
    with session_scope(session_factory(url)) as session:
        return open_on(session, device)


def _active_in(url: str, held: set[int]) -> set[int]:
    with session_factory(url)() as session:
        scope = read_regions(session, REGIONS).scope(held)
        return {i.id for i in active_incidents(session, scope=scope)}


def test_an_incident_on_a_tie_is_its_joined_regions_and_its_lower_regions(
    regions_database: str, open_on: OpenOn
) -> None:
    on_tie = _open_on(regions_database, "TIE", open_on)
    assert on_tie in _active_in(regions_database, {1, 2})
    assert on_tie in _active_in(regions_database, {1})
    assert on_tie not in _active_in(regions_database, {2}) | _active_in(regions_database, {0})


def test_an_incident_is_in_the_region_its_device_is_in_now(
    regions_database: str, open_on: OpenOn
) -> None:
    """A GIS import moved the lateral to the other region's feeder after it was placed."""
    moved = _open_on(regions_database, "FU-A-N", open_on)
    with session_scope(session_factory(regions_database)) as session:
        session.execute(
            update(Device)
            .where(Device.asset_ref == "FU-A-N")
            .values(feeder_id=select(Feeder.id).where(Feeder.name == "South 1").scalar_subquery())
        )
    assert moved in _active_in(regions_database, {2})
    assert moved not in _active_in(regions_database, {1})
