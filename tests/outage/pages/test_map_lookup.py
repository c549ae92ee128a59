"""The public map's search over HTTP: an address, an area's name, a ticket, a position,
answered as the public map's areas; bad input refused with a reason; nothing personal."""

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import h3
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Topology
from maps.layers import area_name
from outage.app import create_app
from outage.db import session_factory, session_scope
from outage.grid.models import Customer, Device, GridNode, Premise
from outage.grid.service import load_network
from outage.incidents.changes import cancel, open_incident
from outage.intake.enums import Channel, MatchMethod, ReportStatus
from outage.intake.models import Report
from outage.settings import Settings
from outage.tickets import TICKET_ALPHABET
from tests.conftest import own_database

LOOKUP = "/api/v1/map/lookup"
RESOLUTION = Settings().map_h3_resolution


@pytest.fixture(scope="module")
def lookup_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "outage_maplookup", sample_grid) as url:
        yield url


@pytest.fixture(scope="module")
def client(lookup_database: str) -> Iterator[TestClient]:
    with TestClient(create_app(lookup_database, Settings(map_cache_seconds=0.01))) as made:
        yield made


@pytest.fixture(scope="module")
def outage(lookup_database: str) -> Iterator[tuple[int, list[int]]]:
    """An outage at the busiest transformer, and the premises it cuts off."""
    with session_scope(session_factory(lookup_database)) as session:
        topology = Topology(load_network(session))
        counts = topology.customer_counts()
        transformers = session.scalars(
            select(Device.asset_ref).where(Device.kind == DeviceKind.TRANSFORMER)
        )
        asset_ref = max(transformers, key=lambda ref: (counts.get(ref, 0), ref))
        premises = list(
            session.scalars(
                select(Premise.id)
                .join(GridNode, GridNode.id == Premise.node_id)
                .where(GridNode.ref.in_(topology.downstream(asset_ref).nodes))
                .order_by(Premise.id)
            )
        )
        incident_id = open_incident(
            session,
            device_asset_ref=asset_ref,
            confidence=0.8,
            customers_affected=counts[asset_ref],
            started_at=datetime.now(UTC) - timedelta(minutes=20),
            reason="lookup test",
        )
    yield incident_id, premises
    with session_scope(session_factory(lookup_database)) as session:
        cancel(session, incident_id, reason="lookup test done")


def _premise(database: str, premise_id: int) -> Premise:
    with session_scope(session_factory(database)) as session:
        found = session.get(Premise, premise_id)
        assert found is not None
        session.expunge(found)
        return found


def _report(database: str, premise_id: int, phone: str | None) -> str:
    ticket = f"{datetime.now(UTC):%y%m%d}-" + "".join(
        secrets.choice(TICKET_ALPHABET) for _ in range(5)
    )
    with session_scope(session_factory(database)) as session:
        session.add(
            Report(
                ticket=ticket,
                channel=Channel.WEB,
                status=ReportStatus.RECEIVED,
                phone=phone,
                premise_id=premise_id,
                match_method=MatchMethod.ADDRESS,
                match_confidence=1.0,
                candidates=[],
            )
        )
    return ticket


def _inside(bbox: list[float], lat: float, lon: float) -> bool:
    west, south, east, north = bbox
    return west <= lon <= east and south <= lat <= north


def _personal(database: str) -> list[str]:
    with session_scope(session_factory(database)) as session:
        rows = session.execute(
            select(
                Customer.account, Customer.name, Customer.phone, Premise.ref, Premise.address
            ).join(Premise, Premise.id == Customer.premise_id)
        ).all()
    return [value for row in rows for value in row if value and len(value) > 4]


def test_an_address_takes_the_map_to_its_area_and_its_outage(
    client: TestClient, lookup_database: str, outage: tuple[int, list[int]]
) -> None:
    premise = _premise(lookup_database, outage[1][0])
    answer = client.get(LOOKUP, params={"q": premise.address, "lang": "en"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["found"] == "address"
    assert body["name"] == area_name(premise.address)
    with session_scope(session_factory(lookup_database)) as session:
        lat, lon = session.execute(
            select(Premise.geom.ST_Y(), Premise.geom.ST_X()).where(Premise.id == premise.id)
        ).one()
    assert _inside(body["bbox"], lat, lon)
    assert body["outages"], "the area's outage is told"
    [first, *_] = body["outages"]
    assert first["customers_out"] > 0 and first["etr"] is None
    assert first["id"].removeprefix("out-") in {
        h3.latlng_to_cell(lat, lon, RESOLUTION),
        h3.cell_to_parent(h3.latlng_to_cell(lat, lon, RESOLUTION), RESOLUTION - 1),
    }


def test_a_wards_name_finds_its_areas(client: TestClient, lookup_database: str) -> None:
    premise = _premise(lookup_database, 1)
    ward = (area_name(premise.address) or "").split(",")[0]
    body = client.get(LOOKUP, params={"q": ward}).json()
    assert body["found"] == "area"
    assert body["name"].startswith(ward)
    west, south, east, north = body["bbox"]
    assert west < east and south < north


def test_the_answers_hold_nothing_personal(
    client: TestClient, lookup_database: str, outage: tuple[int, list[int]]
) -> None:
    premise = _premise(lookup_database, outage[1][0])
    ticket = _report(lookup_database, premise.id, None)
    texts = [
        client.get(LOOKUP, params={"q": premise.address}).text,
        client.get(LOOKUP, params={"q": ticket}).text,
        client.get(LOOKUP, params={"q": "Kim Mã"}).text,
    ]
    for value in _personal(lookup_database):
        for text in texts:
            assert value not in text
    assert "Point" not in "".join(texts)


def test_a_ticket_tells_its_status_and_area_to_who_proves_it(
    client: TestClient, lookup_database: str, outage: tuple[int, list[int]]
) -> None:
    ticket = _report(lookup_database, outage[1][0], "+84901234567")
    asked = client.get(LOOKUP, params={"q": ticket.lower()})
    assert asked.status_code == 403
    assert "phone_last4" in asked.json()["detail"]
    wrong = client.get(LOOKUP, params={"q": ticket, "phone_last4": "0000"})
    assert wrong.status_code == 403
    answer = client.get(LOOKUP, params={"q": ticket, "phone_last4": "4567", "lang": "en"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["found"] == "ticket"
    assert body["ticket"]["ticket"] == ticket
    assert body["ticket"]["status"] == "received"
    assert body["ticket"]["status_text"]
    assert body["outages"] and body["bbox"]
    assert "4567" not in answer.text


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "x"},
        {"q": "a" * 201},
        {"lat": 53.64},
        {"lat": 91, "lon": 11.37},
        {"lat": "north", "lon": 11.37},
        {"q": "Kim Mã", "lat": 53.64, "lon": 11.37},
        {"q": "240101-ABCDE", "phone_last4": "12"},
    ],
)
def test_bad_input_is_refused_with_a_reason(client: TestClient, params: dict[str, Any]) -> None:
    answer = client.get(LOOKUP, params=params)
    assert answer.status_code == 422
    assert answer.json()["detail"]


@pytest.mark.parametrize("q", ["Phố Không Có Thật 99999 zzz", "240101-ABCDE"])
def test_nothing_of_ours_is_a_404(client: TestClient, q: str) -> None:
    answer = client.get(LOOKUP, params={"q": q})
    assert answer.status_code == 404
    assert answer.json()["detail"]


def test_a_position_is_told_its_area_or_that_we_do_not_serve_it(
    client: TestClient, lookup_database: str
) -> None:
    premise = _premise(lookup_database, 1)
    with session_scope(session_factory(lookup_database)) as session:
        lat, lon = session.execute(
            select(Premise.geom.ST_Y(), Premise.geom.ST_X()).where(Premise.id == premise.id)
        ).one()
    here = client.get(LOOKUP, params={"lat": lat, "lon": lon})
    assert here.status_code == 200
    assert here.json()["found"] == "position"
    assert _inside(here.json()["bbox"], lat, lon)
    away = client.get(LOOKUP, params={"lat": 21.03, "lon": 105.85})
    assert away.status_code == 404


def test_searches_are_rate_limited_per_address(lookup_database: str) -> None:
    settings = Settings(map_lookup_limit="2/minute")
    with TestClient(create_app(lookup_database, settings)) as limited:
        for _ in range(2):
            assert limited.get(LOOKUP, params={"q": "Kim Mã"}).status_code == 200
        refused = limited.get(LOOKUP, params={"q": "Kim Mã"})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
