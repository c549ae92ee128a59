"""Dispatchers' pins: the plan keeps a pinned assignment, and a pin goes with its incident."""

from collections.abc import Callable

from sqlalchemy import text

from grid_topology.topology import Topology
from outage.crews import pins
from outage.crews.schemas import PinIn
from outage.db import session_factory, session_scope

from .conftest import Places, away, crew_of, incident_row, plan_now


def test_a_pinned_assignment_is_kept(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    here = places.location[places.fuses[0]]
    new_crew("near", here)
    far = new_crew("far", away(here, 10))
    incident = new_incident(places.fuses[0])
    with session_scope(session_factory(crews_database)) as session:
        pins.set_pin(session, PinIn(incident_id=incident, crew_id=far), by="test-dispatcher")
    result = plan_now(crews_database, topology)
    assert crew_of(result, incident) == far
    assert [p.incident_id for p in result.pins] == [incident]
    assert result.crews[0].jobs[0].pinned
    assert incident_row(crews_database, incident).crew_id == far


def test_old_pins_go_with_their_incident(
    crews_database: str,
    topology: Topology,
    places: Places,
    new_crew: Callable[..., int],
    new_incident: Callable[..., int],
) -> None:
    crew = new_crew("lines", places.location[places.fuses[0]])
    incident = new_incident(places.fuses[0])
    with session_scope(session_factory(crews_database)) as session:
        pins.set_pin(session, PinIn(incident_id=incident, crew_id=crew), by="test")
        session.execute(
            text("UPDATE incidents SET status = 'cancelled' WHERE id = :id"), {"id": incident}
        )
    assert plan_now(crews_database, topology).pins == []
