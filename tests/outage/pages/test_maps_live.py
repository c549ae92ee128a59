"""The maps follow the live network: a feeder head trips, then its feeder is re-fed
through the normally-open tie from the neighbouring feeder. One database of its own, as
the switching changes the network for every test after it; the tests run in order."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from grid_topology.model import GridModel
from outage.app import create_app
from outage.auth.enums import Role
from outage.db import session_factory, session_scope
from outage.grid.enums import SwitchSource
from outage.grid.switching import operate
from outage.incidents.changes import open_incident
from outage.settings import Settings
from tests.conftest import issue_credentials, own_database
from tests.outage.grid.conftest import Transfer, transfer  # noqa: F401 (the fixture)

STARTED = datetime.now(UTC) - timedelta(minutes=30)


@pytest.fixture(scope="module")
def database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "outage_maps_live", sample_grid) as url:
        yield url


@pytest.fixture(scope="module")
def dispatcher(database: str) -> Iterator[TestClient]:
    headers = issue_credentials(database, roles=[Role.DISPATCHER], scopes=[]).staff(Role.DISPATCHER)
    with TestClient(create_app(database), headers=headers) as client:
        yield client


def switch(database: str, asset_ref: str, *, is_open: bool, source: SwitchSource) -> None:
    with session_scope(session_factory(database)) as session:
        operate(
            session,
            asset_ref,
            is_open=is_open,
            occurred_at=datetime.now(UTC),
            source=source,
            actor="test",
            reason="<b>storm</b> switching",
        )


def network(dispatcher: TestClient) -> dict[str, dict[str, Any]]:
    answer = dispatcher.get("/api/v1/map/network.geojson")
    assert answer.status_code == 200
    return {f["id"]: f for f in answer.json()["features"]}


def public_customers_out(database: str) -> int:
    """What a new viewer of the public map sees (a new app: its cache is empty)."""
    with TestClient(create_app(database, Settings(map_min_customers=1))) as client:
        body = client.get("/api/v1/map/public.geojson").json()
    return sum(f["properties"].get("customers_out", 0) for f in body["features"])


def span(area: dict[str, Any]) -> float:
    """The larger side of an area's extent (a polygon or several), in degrees."""
    geometry = area["geometry"]
    polygons: list[list[list[list[float]]]] = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        polygons = [geometry["coordinates"]]
    ring = [point for polygon in polygons for point in polygon[0]]
    lons, lats = [point[0] for point in ring], [point[1] for point in ring]
    return max(max(lons) - min(lons), max(lats) - min(lats))


def points(feature: dict[str, Any]) -> int:
    return sum(len(line) for line in feature["geometry"]["coordinates"])


@pytest.fixture(scope="module")
def tripped(database: str, dispatcher: TestClient, transfer: Transfer) -> dict[str, Any]:  # noqa: F811
    """The network layer before the trip, then the head trips and an outage is opened."""
    before = network(dispatcher)
    switch(database, transfer.head, is_open=True, source=SwitchSource.SCADA)
    with session_scope(session_factory(database)) as session:
        open_incident(
            session,
            device_asset_ref=transfer.head,
            confidence=1.0,
            customers_affected=1,
            started_at=STARTED,
            reason="map test",
        )
    return before


def test_every_line_is_fed_by_a_feeder_before_the_trip(
    tripped: dict[str, Any],
    transfer: Transfer,  # noqa: F811
) -> None:
    assert "deenergized" not in tripped
    feeders = {
        f["properties"]["head"] for f in tripped.values() if f["properties"]["kind"] == "feeder"
    }
    assert {transfer.head, transfer.neighbour_head} <= feeders


def test_a_tripped_feeders_lines_are_shown_without_supply(
    tripped: dict[str, Any],
    dispatcher: TestClient,
    transfer: Transfer,  # noqa: F811
) -> None:
    now = network(dispatcher)
    assert f"feeder-{transfer.head}" not in now
    assert points(now["deenergized"]) == points(tripped[f"feeder-{transfer.head}"])


def test_a_tripped_head_is_marked_as_tripped(
    tripped: dict[str, Any],
    dispatcher: TestClient,
    transfer: Transfer,  # noqa: F811
) -> None:
    device = network(dispatcher)[f"device-{transfer.head}"]["properties"]
    assert (device["kind"], device["is_open"], device["tripped"]) == ("abnormal", True, True)


def test_the_public_map_shows_the_tripped_feeders_customers_out(
    tripped: dict[str, Any], database: str
) -> None:
    assert public_customers_out(database) > 0


def test_the_tripped_feeders_affected_area_spans_its_premises(
    tripped: dict[str, Any], dispatcher: TestClient
) -> None:
    (area,) = dispatcher.get("/api/v1/map/areas.geojson").json()["features"]
    assert span(area) > 0.002, span(area)


def test_closing_the_tie_colours_the_re_fed_lines_as_the_neighbours(
    tripped: dict[str, Any],
    database: str,
    dispatcher: TestClient,
    transfer: Transfer,  # noqa: F811
) -> None:
    switch(database, transfer.tie, is_open=False, source=SwitchSource.DISPATCHER)
    now = network(dispatcher)
    neighbour = f"feeder-{transfer.neighbour_head}"
    assert "deenergized" not in now
    assert points(now[neighbour]) == points(tripped[neighbour]) + points(
        tripped[f"feeder-{transfer.head}"]
    )


def test_a_closed_tie_is_marked_with_who_closed_it_and_why(
    tripped: dict[str, Any],
    dispatcher: TestClient,
    transfer: Transfer,  # noqa: F811
) -> None:
    tie = network(dispatcher)[f"device-{transfer.tie}"]["properties"]
    assert (tie["is_open"], tie["tripped"], tie["source"]) == (False, False, "dispatcher")
    assert tie["reason"] == "<b>storm</b> switching"  # data: the page shows it as text


def test_an_area_re_fed_through_the_tie_is_no_longer_out_on_the_public_map(
    tripped: dict[str, Any], database: str
) -> None:
    assert public_customers_out(database) == 0


def test_an_area_re_fed_through_the_tie_is_no_longer_an_affected_area(
    tripped: dict[str, Any], dispatcher: TestClient
) -> None:
    (area,) = dispatcher.get("/api/v1/map/areas.geojson").json()["features"]
    assert span(area) < 0.002  # the buffer around the device alone (40 m), no premise
