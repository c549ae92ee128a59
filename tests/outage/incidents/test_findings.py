"""A crew's finding: a `confirm` naming a device while the crew is at work places the
incident there, only at or below the device the crew was sent to."""

from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy.orm import Session

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Network, Topology
from outage.incidents.enums import AuditAction
from outage.incidents.errors import IncidentConflict, OutsideArea, UnknownFoundDevice
from outage.incidents.findings import area, found_at
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.models import Incident
from tests.conftest import make_crew

from .conftest import Places, act, events_of


@pytest.fixture(scope="module")
def normal(sample_grid: GridModel) -> Topology:
    return Topology(Network.from_model(sample_grid))


def _line_below(normal: Topology, device: str) -> str:
    links = normal.network.links
    return next(
        ref for ref in normal.downstream(device).devices if links[ref].kind is DeviceKind.LINE
    )


def _crew_on_site(session: Session, open_on: Callable[..., int], device: str) -> int:
    incident_id = open_on(session, device)
    act(session, incident_id, "assign", crew_id=make_crew(session))
    act(session, incident_id, "on_site")
    return incident_id


def test_a_finding_below_places_the_incident_there_and_keeps_the_crew_on_site(
    session: Session, open_on: Callable[..., int], places: Places, normal: Topology
) -> None:
    fuse = places.fuses[0]
    line = _line_below(normal, fuse)
    incident_id = _crew_on_site(session, open_on, fuse)

    act(session, incident_id, "confirm", device=line, reason="a tree on the <b>line</b>")

    incident = session.get_one(Incident, incident_id)
    assert incident.status is IncidentStatus.ON_SITE
    assert incident.confidence == 1.0
    assert incident.placed_by == "dispatcher-1"
    assert incident.customers_affected == len(normal.downstream(line).accounts)
    moved = events_of(session, incident_id)[-1]
    assert (moved.action, moved.details["to"], moved.reason) == (
        AuditAction.MOVED,
        {"device": line},
        "a tree on the <b>line</b>",
    )


def test_a_finding_at_the_incidents_own_device_confirms_it_in_place(
    session: Session, open_on: Callable[..., int], places: Places
) -> None:
    incident_id = _crew_on_site(session, open_on, places.fuses[0])

    act(session, incident_id, "confirm", device=places.fuses[0])

    incident = session.get_one(Incident, incident_id)
    assert (incident.status, incident.confidence) == (IncidentStatus.ON_SITE, 1.0)
    assert events_of(session, incident_id)[-1].details == {"found_at": places.fuses[0]}


def test_a_finding_outside_the_incidents_area_is_refused(
    session: Session, open_on: Callable[..., int], places: Places
) -> None:
    elsewhere = next(
        f for f in places.fuses if places.feeder_of[f] != places.feeder_of[places.fuses[0]]
    )
    incident_id = _crew_on_site(session, open_on, places.fuses[0])

    with pytest.raises(OutsideArea):
        act(session, incident_id, "confirm", device=elsewhere)


def test_a_finding_above_the_incidents_device_moves_it_up(
    session: Session, open_on: Callable[..., int], places: Places
) -> None:
    incident_id = _crew_on_site(session, open_on, places.fuse_below_head)

    act(session, incident_id, "confirm", device=places.head)

    moved = events_of(session, incident_id)[-1]
    assert (moved.action, moved.details["to"]) == (AuditAction.MOVED, {"device": places.head})
    assert session.get_one(Incident, incident_id).status is IncidentStatus.ON_SITE


def test_a_finding_at_an_unknown_device_is_refused(
    session: Session, open_on: Callable[..., int], places: Places
) -> None:
    incident_id = _crew_on_site(session, open_on, places.fuses[0])

    with pytest.raises(UnknownFoundDevice):
        act(session, incident_id, "confirm", device="no such device")


def test_a_finding_on_an_incident_whose_device_left_the_network_is_refused(
    session: Session, open_on: Callable[..., int], places: Places, sample_grid: GridModel
) -> None:
    fuse = places.fuses[0]
    incident_id = _crew_on_site(session, open_on, fuse)
    without = replace(sample_grid, devices=[d for d in sample_grid.devices if d.asset_ref != fuse])
    operated = Topology(Network.from_model(without))

    with pytest.raises(IncidentConflict):
        found_at(
            session,
            session.get_one(Incident, incident_id),
            places.head,
            operated=operated,
            actor="crew-1",
            reason=None,
        )


def test_the_area_is_the_device_then_those_below_nearest_first(
    normal: Topology, places: Places
) -> None:
    found = [device.asset_ref for device in area(normal, places.head, limit=50)]
    depth = [len(normal.upstream(ref).devices) for ref in found]
    assert found[0] == places.head
    assert depth == sorted(depth) and len(found) == 50
    assert set(found[1:]) <= set(normal.downstream(places.head).devices)


def test_the_area_of_an_opened_device_is_what_it_feeds_when_closed(
    normal: Topology, places: Places
) -> None:
    fuse = places.fuses[0]
    opened = normal.switched({fuse: True})
    found = {device.asset_ref for device in area(opened, fuse, limit=1000)}
    assert found == {fuse, *normal.downstream(fuse).devices} - {
        ref for ref in normal.downstream(fuse).devices if normal.network.links[ref].is_open
    }
