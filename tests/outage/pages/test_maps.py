"""The map pages and their data over HTTP, on a database of their own (the public map
counts every active incident, so another suite's incidents would change its figures)."""

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from dispatch.etr import EtrSource
from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Topology
from maps.layers import PremiseOut, PublicOutage, outage_cells
from maps.strings import strings as map_strings
from outage import i18n
from outage.app import create_app
from outage.auth.enums import Role
from outage.crews import service as crews
from outage.crews.schemas import CrewIn, Point, PositionIn
from outage.db import session_factory, session_scope
from outage.grid.models import Customer, Device, Feeder, GridNode, Premise, Substation
from outage.grid.service import load_network
from outage.incidents.changes import cancel, open_incident, set_etr
from outage.incidents.models import Incident
from outage.intake.enums import Channel, MatchMethod, ReportStatus
from outage.intake.models import Report
from outage.notifications import planned
from outage.notifications.schemas import PlannedOutageIn
from outage.pages.crew import CAUSES
from outage.settings import Settings
from tests.conftest import Credentials, issue_credentials, own_database

CACHE_S = 300.0
MIN_CUSTOMERS = 3
SCRIPT_SRC = re.compile(r"<script([^>]*)>")
LINKS = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.fixture(scope="module")
def maps_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "outage_maps", sample_grid) as url:
        yield url


@pytest.fixture(scope="module")
def maps_credentials(maps_database: str) -> Credentials:
    return issue_credentials(maps_database, roles=[Role.DISPATCHER, Role.SUPERVISOR], scopes=[])


def _app(database: str) -> FastAPI:
    return create_app(
        database, Settings(map_cache_seconds=CACHE_S, map_min_customers=MIN_CUSTOMERS)
    )


@pytest.fixture(scope="module")
def dispatcher(maps_database: str, maps_credentials: Credentials) -> Iterator[TestClient]:
    headers = maps_credentials.staff(Role.DISPATCHER)
    with TestClient(_app(maps_database), headers=headers) as client:
        yield client


@pytest.fixture
def public() -> Iterator[Any]:
    """A new app's anonymous client, so its cache starts empty."""
    clients: list[TestClient] = []

    def make(database: str) -> TestClient:
        client = TestClient(_app(database))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _busiest_transformer(database: str) -> tuple[str, int]:
    with session_scope(session_factory(database)) as session:
        counts = Topology(load_network(session)).customer_counts()
        transformers = set(
            session.scalars(select(Device.asset_ref).where(Device.kind == DeviceKind.TRANSFORMER))
        )
    asset_ref = max(transformers, key=lambda ref: (counts.get(ref, 0), ref))
    return asset_ref, counts[asset_ref]


def _open_outage(database: str, asset_ref: str, customers: int, **extra: Any) -> int:
    with session_scope(session_factory(database)) as session:
        incident_id = open_incident(
            session,
            device_asset_ref=asset_ref,
            confidence=0.8,
            customers_affected=customers,
            started_at=datetime.now(UTC) - timedelta(minutes=20),
            reason="map test",
        )
        if "etr" in extra:
            set_etr(
                session, incident_id, etr=extra["etr"], source=EtrSource.DISPATCHER, actor="test"
            )
    return incident_id


def _close(database: str, incident_id: int) -> None:
    with session_scope(session_factory(database)) as session:
        cancel(session, incident_id, reason="map test done")


def _expected_cells(database: str, asset_ref: str, started_at: datetime) -> dict[str, int]:
    """What the public map should show for an outage of `asset_ref` alone."""
    with session_scope(session_factory(database)) as session:
        nodes = sorted(Topology(load_network(session)).downstream(asset_ref).nodes)
        rows = session.execute(
            select(
                Premise.id,
                func.ST_Y(Premise.geom),
                func.ST_X(Premise.geom),
                func.count(Customer.id),
            )
            .join(GridNode, GridNode.id == Premise.node_id)
            .join(Customer, Customer.premise_id == Premise.id)
            .where(GridNode.ref.in_(nodes))
            .group_by(Premise.id)
        )
        premises = [PremiseOut(1, premise, lat, lon, n) for premise, lat, lon, n in rows]
    settings = Settings()
    cells = outage_cells(
        [PublicOutage(1, started_at, None, None, None)],
        premises,
        resolution=settings.map_h3_resolution,
        min_customers=MIN_CUSTOMERS,
    )
    return {cell.cell: round(cell.customers_out) for cell in cells}


# --- the public map ---------------------------------------------------------------------


def test_the_public_map_counts_an_outages_customers_per_area(
    maps_database: str, public: Any
) -> None:
    asset_ref, customers = _busiest_transformer(maps_database)
    etr = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    incident_id = _open_outage(maps_database, asset_ref, customers, etr=etr)
    try:
        answer = public(maps_database).get("/api/v1/map/public.geojson")
    finally:
        _close(maps_database, incident_id)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/geo+json"
    body = answer.json()
    outages = [f for f in body["features"] if f["properties"]["kind"] == "outage"]
    shown = {f["id"].removeprefix("out-"): f["properties"]["customers_out"] for f in outages}
    assert shown == _expected_cells(maps_database, asset_ref, datetime.now(UTC))
    assert 0 < sum(shown.values()) <= customers
    for feature in outages:
        assert feature["geometry"]["type"] == "Polygon"
        assert feature["properties"]["etr"] == etr.isoformat()
    assert len(body["bbox"]) == 4
    assert datetime.fromisoformat(body["updated_at"]) <= datetime.now(UTC)


def test_the_public_map_holds_no_personal_data(maps_database: str, public: Any) -> None:
    asset_ref, customers = _busiest_transformer(maps_database)
    incident_id = _open_outage(maps_database, asset_ref, customers)
    try:
        text = public(maps_database).get("/api/v1/map/public.geojson").text
    finally:
        _close(maps_database, incident_id)
    with session_scope(session_factory(maps_database)) as session:
        people = session.execute(
            select(Customer.account, Customer.name, Customer.phone, Premise.ref, Premise.address)
            .join(Premise, Premise.id == Customer.premise_id)
            .limit(400)
        ).all()
    assert "customers_out" in text
    for row in people:
        for value in row:
            if value and len(value) > 4:
                assert value not in text
    assert asset_ref not in text
    assert "Point" not in text


@pytest.mark.parametrize(
    ("recorded", "shown"), [("lightning", ["lightning"]), ("Anh Nam: cây đổ", [])]
)
def test_the_public_map_names_a_cause_only_by_its_code(
    maps_database: str, public: Any, recorded: str, shown: list[str]
) -> None:
    """Its script puts the code in words; a dispatcher's own note is never shown."""
    asset_ref, customers = _busiest_transformer(maps_database)
    incident_id = _open_outage(maps_database, asset_ref, customers)
    with session_scope(session_factory(maps_database)) as session:
        session.get_one(Incident, incident_id).cause = recorded
    try:
        body = public(maps_database).get("/api/v1/map/public.geojson").json()
    finally:
        _close(maps_database, incident_id)
    outages = [f for f in body["features"] if f["properties"]["kind"] == "outage"]
    assert outages
    assert all(f["properties"]["causes"] == shown for f in outages)


def test_the_public_map_is_served_from_the_cache(maps_database: str, public: Any) -> None:
    client = public(maps_database)
    first = client.get("/api/v1/map/public.geojson")
    asset_ref, customers = _busiest_transformer(maps_database)
    incident_id = _open_outage(maps_database, asset_ref, customers)
    try:
        second = client.get("/api/v1/map/public.geojson")
        fresh = public(maps_database).get("/api/v1/map/public.geojson")
    finally:
        _close(maps_database, incident_id)
    assert second.content == first.content, "within its time-to-live the cache answers"
    assert fresh.content != first.content, "a new cache reads the new outage"
    assert first.headers["cache-control"] == f"public, max-age={round(CACHE_S)}"
    unchanged = client.get(
        "/api/v1/map/public.geojson", headers={"If-None-Match": first.headers["etag"]}
    )
    assert unchanged.status_code == 304
    assert unchanged.content == b""


@pytest.mark.parametrize(("language", "title"), [("vi", "Bản đồ mất điện"), ("en", "Outage map")])
def test_the_public_page_speaks_the_visitors_language(
    maps_database: str, public: Any, language: str, title: str
) -> None:
    client = public(maps_database)
    page = client.get("/map", params={"lang": language})
    assert page.status_code == 200
    assert f'<h1 id="map-title">{title}</h1>' in page.text
    assert page.headers["content-language"] == language
    [script] = [url for url in LINKS.findall(page.text) if url.startswith("/map/map.js")]
    served = client.get(script)
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/javascript")
    assert "OutagePublic.source" in served.text


# --- the dispatcher's map ---------------------------------------------------------------


def _only_served_scripts(html: str) -> None:
    """Every script is a file of ours; the only inline one is JSON data."""
    for attributes in SCRIPT_SRC.findall(html):
        assert "src=" in attributes or 'type="application/json"' in attributes, attributes
    for url in LINKS.findall(html):
        assert url.startswith("/") and not url.startswith("//"), url


def test_the_dispatch_page_sends_visitors_to_sign_in(maps_database: str, public: Any) -> None:
    answer = public(maps_database).get("/dispatch", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=%2Fdispatch")


def test_the_dispatch_page_uses_only_its_own_scripts(dispatcher: TestClient) -> None:
    page = dispatcher.get("/dispatch", params={"lang": "en"})
    assert page.status_code == 200, page.text
    _only_served_scripts(page.text)
    assert "Incidents by priority" in page.text
    config = json.loads(re.findall(r'id="map-config">([^<]*)<', page.text)[0])
    assert config["can_act"] is True and config["can_draft"] is True
    assert 'id="abnormal-list"' in page.text and 'id="return-all"' in page.text
    [script] = [url for url in LINKS.findall(page.text) if url.startswith("/dispatch/map.js")]
    served = dispatcher.get(script)
    assert served.status_code == 200
    assert "L.realtime(" in served.text and "L.markerClusterGroup(" in served.text
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        assert dispatcher.get(asset).status_code == 200, asset


def test_the_dispatcher_picks_a_cause_from_the_crew_pages_list(dispatcher: TestClient) -> None:
    """In the page's language; "unknown" is no cause set, so it is not offered."""
    page = dispatcher.get("/dispatch", params={"lang": "vi"})
    config = json.loads(re.findall(r'id="map-config">([^<]*)<', page.text)[0])
    words = i18n.catalogue("crew", "vi")
    assert config["causes"] == [
        [cause, words[f"cause.{cause}"]] for cause in CAUSES if cause != "unknown"
    ]


def test_a_supervisor_sees_the_map_without_the_actions(
    maps_database: str, maps_credentials: Credentials
) -> None:
    with TestClient(_app(maps_database)) as client:
        page = client.get("/dispatch", headers=maps_credentials.staff(Role.SUPERVISOR))
    assert page.status_code == 200
    config = json.loads(re.findall(r'id="map-config">([^<]*)<', page.text)[0])
    assert config["can_act"] is False and config["can_draft"] is False
    assert 'id="abnormal-list"' in page.text and 'id="return-all"' not in page.text


def test_a_reports_description_is_data_not_markup(
    maps_database: str, dispatcher: TestClient
) -> None:
    description = f"<img src=x onerror=alert(1)> {uuid.uuid4()}"
    with session_scope(session_factory(maps_database)) as session:
        premise = session.scalars(select(Premise).order_by(Premise.id).limit(1)).one()
        report = Report(
            ticket=f"MAP{uuid.uuid4().hex[:8].upper()}",
            channel=Channel.WEB,
            status=ReportStatus.RECEIVED,
            description=description,
            premise_id=premise.id,
            match_method=MatchMethod.ACCOUNT,
            match_confidence=1.0,
            candidates=[],
        )
        session.add(report)
    answer = dispatcher.get("/api/v1/map/reports.geojson")
    assert answer.status_code == 200
    [shown] = [
        f for f in answer.json()["features"] if f["properties"]["description"] == description
    ]
    assert shown["geometry"]["type"] == "Point"
    assert set(shown["properties"]) == {
        "id",
        "ticket",
        "status",
        "channel",
        "received_at",
        "hazard",
        "description",
        "incident_id",
    }


def test_each_incident_has_its_affected_area(maps_database: str, dispatcher: TestClient) -> None:
    asset_ref, customers = _busiest_transformer(maps_database)
    incident_id = _open_outage(maps_database, asset_ref, customers)
    try:
        answer = dispatcher.get("/api/v1/map/areas.geojson")
    finally:
        _close(maps_database, incident_id)
    assert answer.status_code == 200
    [area] = [f for f in answer.json()["features"] if f["id"] == incident_id]
    assert area["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert area["properties"]["status"] == "predicted"
    assert area["properties"]["customers_affected"] == customers


FAR_M = 100.0
"""Farther than this from every premise an incident cuts off is outside its area."""

_OUTSIDE = text(
    "WITH area AS (SELECT ST_GeomFromGeoJSON(:area) AS shape),"
    " out AS (SELECT p.geom FROM premises p JOIN nodes n ON n.id = p.node_id"
    "  WHERE n.ref = ANY(:nodes))"
    " SELECT (SELECT count(*) FROM out, area WHERE NOT ST_Covers(area.shape, out.geom)),"
    " (SELECT count(*) FROM premises p, area WHERE ST_Covers(area.shape, p.geom)"
    "  AND NOT EXISTS (SELECT 1 FROM out WHERE ST_DWithin(out.geom::geography,"
    "  p.geom::geography, :far)))"
)


def test_an_affected_area_follows_the_premises_cut_off(
    maps_database: str, dispatcher: TestClient
) -> None:
    """A feeder's premises, not the span of them: the other feeder's in between are out."""
    with session_scope(session_factory(maps_database)) as session:
        topology = Topology(load_network(session))
        heads = list(
            session.scalars(
                select(Device.asset_ref).join(Feeder, Feeder.head_device_id == Device.id)
            )
        )
    incidents = {
        _open_outage(maps_database, head, topology.customer_counts()[head]): head for head in heads
    }
    try:
        areas = dispatcher.get("/api/v1/map/areas.geojson").json()["features"]
    finally:
        for incident_id in incidents:
            _close(maps_database, incident_id)
    assert {area["id"] for area in areas} == set(incidents)
    with session_scope(session_factory(maps_database)) as session:
        for area in areas:
            nodes = sorted(topology.downstream(incidents[area["id"]]).nodes)
            uncovered, foreign = session.execute(
                _OUTSIDE, {"area": json.dumps(area["geometry"]), "nodes": nodes, "far": FAR_M}
            ).one()
            assert (uncovered, foreign) == (0, 0), incidents[area["id"]]


def test_the_network_layer_has_feeders_and_substations(
    maps_database: str, dispatcher: TestClient
) -> None:
    answer = dispatcher.get("/api/v1/map/network.geojson")
    assert answer.status_code == 200
    body = answer.json()
    with session_scope(session_factory(maps_database)) as session:
        feeders = set(session.scalars(select(Feeder.name)))
        substations = set(session.scalars(select(Substation.name)))
    kinds: dict[str, set[str]] = {}
    for feature in body["features"]:
        kinds.setdefault(feature["properties"]["kind"], set()).add(feature["properties"]["name"])
    assert kinds == {"feeder": feeders, "substation": substations}
    west, south, east, north = body["bbox"]
    assert west < east and south < north


def test_crews_are_shown_where_they_are(maps_database: str, dispatcher: TestClient) -> None:
    name = f"Map crew {uuid.uuid4().hex[:6]}"
    with session_scope(session_factory(maps_database)) as session:
        crew_id = crews.create_crew(
            session, CrewIn(name=name, skills=[], depot=Point(lat=21.0, lon=105.8))
        )
    answer = dispatcher.get("/api/v1/map/crews.geojson")
    assert answer.status_code == 200
    [crew] = [f for f in answer.json()["features"] if f["id"] == crew_id]
    assert crew["geometry"]["coordinates"] == [105.8, 21.0]
    assert crew["properties"]["name"] == name
    assert crew["properties"]["at_depot"] is True
    assert crew["properties"]["heading"] is None


def _crew_driving(database: str, fixes: list[tuple[float, float, timedelta]]) -> int:
    """A new crew that sent these (lat, lon, how long ago) positions."""
    now = datetime.now(UTC)
    with session_scope(session_factory(database)) as session:
        crew_id = crews.create_crew(
            session,
            CrewIn(
                name=f"Moving crew {uuid.uuid4().hex[:6]}",
                skills=[],
                depot=Point(lat=21.0, lon=105.8),
            ),
        )
        for lat, lon, ago in fixes:
            crews.record_position(
                session, crew_id, PositionIn(lat=lat, lon=lon, recorded_at=now - ago), now=now
            )
    return crew_id


def _heading(dispatcher: TestClient, crew_id: int) -> Any:
    answer = dispatcher.get("/api/v1/map/crews.geojson")
    assert answer.status_code == 200
    [crew] = [f for f in answer.json()["features"] if f["id"] == crew_id]
    return crew["properties"]["heading"]


def test_a_moving_crew_heads_from_its_previous_position_to_its_newest(
    maps_database: str, dispatcher: TestClient
) -> None:
    crew_id = _crew_driving(
        maps_database,
        [
            (21.0, 105.8, timedelta(minutes=3)),  # older than the two newest: not read
            (21.01, 105.81, timedelta(minutes=2)),
            (21.01, 105.82, timedelta(minutes=1)),  # east of the one before
        ],
    )
    assert _heading(dispatcher, crew_id) == pytest.approx(90.0, abs=0.5)


def test_a_crew_standing_still_has_no_heading(maps_database: str, dispatcher: TestClient) -> None:
    crew_id = _crew_driving(
        maps_database,
        [(21.0, 105.8, timedelta(minutes=2)), (21.00003, 105.8, timedelta(minutes=1))],
    )
    assert _heading(dispatcher, crew_id) is None


def test_a_crew_heard_from_long_ago_has_no_heading(
    maps_database: str, dispatcher: TestClient
) -> None:
    crew_id = _crew_driving(
        maps_database,
        [(21.0, 105.8, timedelta(hours=2)), (21.01, 105.8, timedelta(hours=1))],
    )
    assert _heading(dispatcher, crew_id) is None


def test_map_data_is_for_staff_only(maps_database: str, public: Any) -> None:
    client = public(maps_database)
    for url in (
        "/api/v1/map/reports.geojson",
        "/api/v1/map/areas.geojson",
        "/api/v1/map/crews.geojson",
        "/api/v1/map/network.geojson",
        "/dispatch/map.js",
    ):
        assert client.get(url).status_code == 401, url


def test_planned_work_is_on_the_public_map(maps_database: str, public: Any) -> None:
    asset_ref, customers = _busiest_transformer(maps_database)
    now = datetime.now(UTC)
    plan = PlannedOutageIn(
        device=asset_ref,
        starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=3, hours=4),
        reason="map test maintenance",
    )
    with session_scope(session_factory(maps_database)) as session:
        scheduled = planned.schedule(
            session,
            plan,
            actor="test",
            topology=Topology(load_network(session)),
            now=now,
            settings=Settings(),
        )
    try:
        body = public(maps_database).get("/api/v1/map/public.geojson").json()
    finally:
        with session_scope(session_factory(maps_database)) as session:
            planned.cancel(session, scheduled.id)
    works = [f["properties"] for f in body["features"] if f["properties"]["kind"] == "planned"]
    assert 0 < sum(w["customers"] for w in works) <= customers
    for work in works:
        assert datetime.fromisoformat(work["starts_at"]) == plan.starts_at
        assert datetime.fromisoformat(work["ends_at"]) == plan.ends_at


def test_the_outline_is_the_territory_and_the_lines_without_names(
    maps_database: str, public: Any
) -> None:
    answer = public(maps_database).get("/api/v1/map/outline.geojson")
    assert answer.status_code == 200
    assert answer.headers["cache-control"].startswith("public, max-age=")
    features = answer.json()["features"]
    assert {f["id"]: f["geometry"]["type"] for f in features} == {
        "territory": "Polygon",
        "lines": "MultiLineString",
    }
    assert all(f["properties"] == {"kind": f["id"]} for f in features)
    with session_scope(session_factory(maps_database)) as session:
        some_line = session.scalars(
            select(Device.asset_ref).where(Device.kind == DeviceKind.LINE).limit(1)
        ).one()
    assert some_line not in answer.text


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_public_legend_tells_the_scale_in_numbers_from_the_smallest_area(
    maps_database: str, public: Any, language: str
) -> None:
    t = map_strings(language)
    page = public(maps_database).get("/map", params={"lang": language}).text
    assert '<details class="legend-box" id="map-legend" open>' in page
    assert t["public_legend_range"].format(low=MIN_CUSTOMERS, high=19) in page
    assert t["public_legend_more"].format(n=500) in page
    config = json.loads(re.findall(r'id="map-config">([^<]*)<', page)[0])
    assert config["shades"][0] == [MIN_CUSTOMERS, "#f59e0b"]
