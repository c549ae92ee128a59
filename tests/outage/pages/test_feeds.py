"""The public feeds over HTTP, on a database of their own (they tell of every active
incident, so another suite's incidents would change them).

The CAP alerts are checked against the OASIS CAP 1.2 schema and the Atom feeds against the
RELAX NG schema of RFC 4287, both vendored in `tests/data/`.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import select

from dispatch.etr import EtrSource
from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Topology
from outage.app import create_app
from outage.db import session_factory, session_scope
from outage.grid.models import Customer, Device, Premise
from outage.grid.service import load_network
from outage.incidents.changes import open_incident, restore, set_etr
from outage.incidents.enums import IncidentKind
from outage.incidents.models import Incident
from outage.intake.enums import Hazard
from outage.settings import Settings
from tests.conftest import own_database

DATA = Path(__file__).resolve().parents[2] / "data"
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"
SENDER = "outages.test.vn"


@pytest.fixture(scope="module")
def cap_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(DATA / "CAP-v1.2.xsd"))


@pytest.fixture(scope="module")
def atom_schema() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(DATA / "atom.rng"))


@dataclass(frozen=True)
class Incidents:
    large: int
    small: int
    hazard: int
    spare: str
    """A transformer with no incident, for a test's own outage."""
    threshold: int


def _open(database: str, **place: object) -> int:
    with session_scope(session_factory(database)) as session:
        return open_incident(
            session,
            confidence=0.8,
            started_at=datetime.now(UTC) - timedelta(minutes=30),
            reason="feeds test",
            **place,  # type: ignore[arg-type]
        )


@pytest.fixture(scope="module")
def feeds_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "outage_feeds", sample_grid) as url:
        yield url


@pytest.fixture(scope="module")
def incidents(feeds_database: str) -> Incidents:
    """The busiest transformer out (large), the quietest out (small), wires down on a line."""
    with session_scope(session_factory(feeds_database)) as session:
        counts = Topology(load_network(session)).customer_counts()
        kinds = {ref: kind for ref, kind in session.execute(select(Device.asset_ref, Device.kind))}
    transformers = sorted(
        (counts[ref], ref)
        for ref, kind in kinds.items()
        if kind is DeviceKind.TRANSFORMER and counts.get(ref, 0) > 0
    )
    line = min(ref for ref, kind in kinds.items() if kind is DeviceKind.LINE)
    (small_count, small), (large_count, large) = transformers[0], transformers[-1]
    assert small_count < large_count
    spare_count, spare = transformers[-2]
    return Incidents(
        large=_open(feeds_database, device_asset_ref=large, customers_affected=large_count),
        small=_open(feeds_database, device_asset_ref=small, customers_affected=small_count),
        hazard=_open(
            feeds_database,
            kind=IncidentKind.HAZARD,
            device_asset_ref=line,
            hazard=Hazard.WIRES_DOWN,
            customers_affected=0,
        ),
        spare=spare,
        threshold=min(large_count, spare_count),
    )


@pytest.fixture
def public(feeds_database: str, incidents: Incidents) -> Iterator[TestClient]:
    """A new app's anonymous client (its cache starts empty)."""
    settings = Settings(
        feed_alert_customers=incidents.threshold,
        feed_sender=SENDER,
        public_base_url="https://outages.test.vn",
    )
    with TestClient(create_app(feeds_database, settings)) as client:
        yield client


def _cap_alerts(client: TestClient) -> list[etree._Element]:
    answer = client.get("/api/v1/public/cap")
    assert answer.status_code == 200, answer.text
    feed = etree.fromstring(answer.content)
    return feed.findall(f"{ATOM}entry/{ATOM}content/{CAP}alert")


def _incident_of(alert: etree._Element) -> int:
    return int(alert.findtext(f"{CAP}incidents").rsplit("-", 1)[1])


def test_the_summary_counts_customers_out_by_area(public: TestClient, incidents: Incidents) -> None:
    answer = public.get("/api/v1/public/summary", params={"lang": "en"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["lang"] == "en"
    assert body["customers_out"] == sum(area["customers_out"] for area in body["areas"]) > 0
    assert sum(area["outages"] for area in body["areas"]) == 2
    hazards = [h for area in body["areas"] for h in area["hazards"]]
    assert hazards == [{"code": "wires_down", "name": "Wires down"}]
    assert datetime.fromisoformat(body["updated_at"]) <= datetime.now(UTC)
    assert answer.headers["cache-control"].startswith("public, max-age=")


def test_the_summary_gives_the_range_of_the_areas_etrs(
    public: TestClient, feeds_database: str, incidents: Incidents
) -> None:
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    later = soon + timedelta(hours=2)
    with session_scope(session_factory(feeds_database)) as session:
        for incident, etr in ((incidents.small, soon), (incidents.large, later)):
            set_etr(session, incident, etr=etr, source=EtrSource.DISPATCHER, actor="test")
    areas = public.get("/api/v1/public/summary").json()["areas"]
    out = [area for area in areas if area["outages"]]
    assert min(datetime.fromisoformat(a["etr_earliest"]) for a in out) == soon
    assert max(datetime.fromisoformat(a["etr_latest"]) for a in out) == later
    assert not any(area["etr_unknown"] for area in out)


def test_the_summary_spans_the_ranges_of_the_areas_estimates(
    public: TestClient, feeds_database: str, incidents: Incidents
) -> None:
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    later = soon + timedelta(hours=2)
    margin = timedelta(minutes=40)
    with session_scope(session_factory(feeds_database)) as session:
        for incident, etr in ((incidents.small, soon), (incidents.large, later)):
            # as the engine's estimate stores it, whichever ETR an earlier test left
            row = session.get_one(Incident, incident)
            row.etr, row.etr_source = etr, EtrSource.PREDICTED
            row.etr_earliest, row.etr_latest = etr - margin, etr + margin
    areas = public.get("/api/v1/public/summary").json()["areas"]
    out = [area for area in areas if area["outages"]]
    assert min(datetime.fromisoformat(a["etr_earliest"]) for a in out) == soon - margin
    assert max(datetime.fromisoformat(a["etr_latest"]) for a in out) == later + margin


def test_the_cap_alerts_are_valid_cap_1_2(
    public: TestClient, cap_schema: etree.XMLSchema, atom_schema: etree.RelaxNG
) -> None:
    answer = public.get("/api/v1/public/cap")
    assert answer.headers["content-type"].startswith("application/atom+xml")
    atom_schema.assertValid(etree.fromstring(answer.content))
    alerts = _cap_alerts(public)
    assert alerts
    for alert in alerts:
        cap_schema.assertValid(etree.ElementTree(alert))
        one = public.get(f"/api/v1/public/cap/{alert.findtext(f'{CAP}identifier')}")
        assert one.status_code == 200, one.text
        assert one.headers["content-type"].startswith("application/cap+xml")
        cap_schema.assertValid(etree.fromstring(one.content))


def test_the_cap_alerts_are_the_hazard_and_the_large_outage(
    public: TestClient, incidents: Incidents
) -> None:
    alerts = {_incident_of(alert): alert for alert in _cap_alerts(public)}
    assert incidents.hazard in alerts
    assert incidents.large in alerts
    assert incidents.small not in alerts
    hazard = alerts[incidents.hazard]
    assert hazard.findtext(f"{CAP}msgType") == "Alert", "its first state: nothing to update"
    assert hazard.find(f"{CAP}references") is None
    assert hazard.findtext(f"{CAP}status") == "Actual"
    assert hazard.findtext(f"{CAP}scope") == "Public"
    infos = hazard.findall(f"{CAP}info")
    assert [info.findtext(f"{CAP}language") for info in infos] == ["vi-VN", "en-US"]
    assert {info.findtext(f"{CAP}category") for info in infos} == {"Safety"}
    assert {info.findtext(f"{CAP}urgency") for info in infos} == {"Immediate"}
    outage = alerts[incidents.large].find(f"{CAP}info")
    assert outage is not None
    assert outage.findtext(f"{CAP}category") == "Infra"
    assert outage.find(f"{CAP}area/{CAP}polygon") is not None
    sent = alerts[incidents.large].findtext(f"{CAP}sent")
    assert datetime.fromisoformat(sent).utcoffset() == timedelta(hours=7)


def test_a_cap_identifier_is_stable_while_its_incident_does_not_change(
    public: TestClient, feeds_database: str, incidents: Incidents
) -> None:
    first = {a.findtext(f"{CAP}identifier") for a in _cap_alerts(public)}
    with TestClient(create_app(feeds_database, public.app.state.settings)) as again:
        second = {a.findtext(f"{CAP}identifier") for a in _cap_alerts(again)}
    assert first == second
    assert all(identifier.startswith(f"{SENDER}.incident-") for identifier in first)


def test_a_restored_outage_is_an_all_clear_update(
    public: TestClient, feeds_database: str, incidents: Incidents
) -> None:
    outage = _open(
        feeds_database, device_asset_ref=incidents.spare, customers_affected=incidents.threshold
    )
    with session_scope(session_factory(feeds_database)) as session:
        restore(session, outage, at=datetime.now(UTC), reason="feeds test")
    alert = {_incident_of(a): a for a in _cap_alerts(public)}[outage]
    assert alert.findtext(f"{CAP}msgType") == "Update"
    assert alert.findtext(f"{CAP}references").startswith(f"{SENDER},{SENDER}.incident-{outage}.1,")
    info = alert.find(f"{CAP}info")
    assert info is not None
    assert info.findtext(f"{CAP}urgency") == "Past"
    assert info.findtext(f"{CAP}responseType") == "AllClear"


def test_an_unknown_cap_identifier_is_not_found(public: TestClient) -> None:
    answer = public.get("/api/v1/public/cap/nothing.incident-0.1")
    assert answer.status_code == 404
    assert "identifier" in answer.json()["detail"]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_atom_feed_is_valid_atom(
    public: TestClient, atom_schema: etree.RelaxNG, incidents: Incidents, lang: str
) -> None:
    answer = public.get("/api/v1/public/feed.atom", params={"lang": lang})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = etree.fromstring(answer.content)
    atom_schema.assertValid(feed)
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == lang
    rels = {link.get("rel") for link in feed.findall(f"{ATOM}link")}
    assert rels == {"self", "alternate"}
    ids = [entry.findtext(f"{ATOM}id") for entry in feed.findall(f"{ATOM}entry")]
    assert any(i.endswith(f"#incident-{incidents.hazard}") for i in ids)
    assert not any(i.endswith(f"#incident-{incidents.small}") for i in ids)


def test_the_feeds_hold_no_personal_data(
    public: TestClient, feeds_database: str, incidents: Incidents
) -> None:
    bodies = [
        public.get(path).text
        for path in (
            "/api/v1/public/summary",
            "/api/v1/public/cap",
            "/api/v1/public/feed.atom",
        )
    ]
    with session_scope(session_factory(feeds_database)) as session:
        people = session.execute(
            select(Customer.account, Customer.name, Customer.phone, Customer.email, Premise.address)
            .join(Premise, Premise.id == Customer.premise_id)
            .limit(400)
        ).all()
    for body in bodies:
        for row in people:
            for value in row:
                if value and len(value) > 4:
                    assert value not in body
