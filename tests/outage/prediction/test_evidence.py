"""What the engine counts as evidence: a call tells of an outage until the caller's supply
is known to be back."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Link, Network, Topology
from outage.app import create_app
from outage.auth.enums import Role, Scope
from outage.db import session_factory, session_scope
from outage.grid.models import Customer, Feeder, Premise, SubstationMove
from outage.grid.regions import read_regions
from outage.intake.enums import Channel, MatchMethod, ReportStatus
from outage.intake.models import Report
from outage.prediction.evidence import gather, refed_by_switching
from outage.prediction.inference import EvidenceKind
from tests.conftest import Credentials, issue_credentials, own_database
from tests.outage.regions_grid import REGIONS

WINDOW = timedelta(hours=4)


@pytest.fixture(scope="module")
def evidence_db(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "evidence", sample_grid) as url:
        yield url


@pytest.fixture(scope="module")
def served(evidence_db: str) -> Iterator[tuple[TestClient, Credentials]]:
    credentials = issue_credentials(evidence_db, roles=[Role.ADMIN], scopes=[Scope.AMI])
    with TestClient(create_app(evidence_db), headers=credentials.staff(Role.ADMIN)) as client:
        yield client, credentials


@pytest.fixture(scope="module")
def metered(sample_grid: GridModel) -> Iterator[tuple[str, str]]:
    """(account, meter id) of metered customers, each test taking its own."""
    return iter(
        (p.customer.account, p.meter_id) for p in sample_grid.premises[200:260] if p.meter_id
    )


def _call(client: TestClient, account: str) -> None:
    assert client.post("/api/v1/reports", json={"account": account}).status_code == 201


def _kinds(url: str, account: str) -> set[EvidenceKind]:
    with session_scope(session_factory(url)) as session:
        found = gather(session, now=datetime.now(UTC), window=WINDOW)
    return {item.kind for item in found.items if item.account == account}


def test_a_call_is_evidence_of_an_outage(
    served: tuple[TestClient, Credentials], evidence_db: str, metered: Iterator[tuple[str, str]]
) -> None:
    account, _ = next(metered)
    _call(served[0], account)
    assert _kinds(evidence_db, account) == {EvidenceKind.CALL}


def test_a_call_before_the_meter_says_power_is_back_no_longer_counts(
    served: tuple[TestClient, Credentials], evidence_db: str, metered: Iterator[tuple[str, str]]
) -> None:
    client, credentials = served
    account, meter = next(metered)
    _call(client, account)
    restored = {"meter_id": meter, "event": "power_restored", "occurred_at": _later()}
    response = client.post(
        "/api/v1/ami/events", json={"events": [restored]}, headers=credentials.key(Scope.AMI)
    )
    assert response.status_code == 200, response.text
    assert _kinds(evidence_db, account) == {EvidenceKind.LIVE}


def test_a_call_after_the_meter_said_power_is_back_outweighs_it(
    served: tuple[TestClient, Credentials], evidence_db: str, metered: Iterator[tuple[str, str]]
) -> None:
    client, credentials = served
    account, meter = next(metered)
    earlier = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    restored = {"meter_id": meter, "event": "power_restored", "occurred_at": earlier}
    response = client.post(
        "/api/v1/ami/events", json={"events": [restored]}, headers=credentials.key(Scope.AMI)
    )
    assert response.status_code == 200, response.text
    _call(client, account)
    assert _kinds(evidence_db, account) == {EvidenceKind.CALL}


AT = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def _tied() -> Topology:
    """Two sources; feeder A (breaker A, then node a1 with customer "x") and feeder B, with
    an open tie from a1 to B's node; breaker A open, the tie closed: x is fed from B."""
    links = {
        "A": Link("A", DeviceKind.BREAKER, "sa", "a1", is_open=True),
        "B": Link("B", DeviceKind.BREAKER, "sb", "b1"),
        "T": Link("T", DeviceKind.SWITCH, "a1", "b1"),
    }
    return Topology(Network(links, frozenset({"sa", "sb"}), {"a1": ("x",)}))


def test_a_customer_fed_again_by_a_tie_closed_after_they_called_is_back() -> None:
    refed = refed_by_switching(_tied(), {"x": AT}, {"T": AT + timedelta(minutes=5)})
    assert refed == {"x"}


def test_a_call_after_the_tie_closed_still_counts() -> None:
    refed = refed_by_switching(
        _tied(), {"x": AT + timedelta(minutes=10)}, {"T": AT + timedelta(minutes=5)}
    )
    assert refed == set()


def test_a_customer_without_supply_now_is_not_back() -> None:
    dead = _tied().switched({"T": True})
    assert refed_by_switching(dead, {"x": AT}, {"T": AT + timedelta(minutes=5)}) == set()


def _later() -> str:
    return (datetime.now(UTC) + timedelta(seconds=1)).isoformat()


def test_a_call_is_read_in_the_region_its_customer_is_in_now(regions_database: str) -> None:
    """The call was placed on North's feeder, under North's key; an import has since moved
    the premise to South's, recording the move."""
    now = datetime.now(UTC)
    with session_scope(session_factory(regions_database)) as session:
        feeder = dict(session.execute(select(Feeder.name, Feeder.id)).tuples().all())
        substation = dict(session.execute(select(Feeder.id, Feeder.substation_id)).tuples().all())
        customer = session.scalars(select(Customer).where(Customer.account == "NA1")).one()
        session.add(
            Report(
                ticket="T-MOVED",
                channel=Channel.WEB,
                status=ReportStatus.RECEIVED,
                match_method=MatchMethod.ACCOUNT,
                customer_id=customer.id,
                premise_id=customer.premise_id,
                feeder_id=feeder["North 1"],
                substation_id=substation[feeder["North 1"]],
                received_at=now,
            )
        )
        session.execute(
            update(Premise)
            .where(Premise.id == customer.premise_id)
            .values(feeder_id=feeder["South 1"])
        )
        session.add(
            SubstationMove(
                from_substation=substation[feeder["North 1"]],
                to_substation=substation[feeder["South 1"]],
                moved_at=now,
            )
        )
    with session_factory(regions_database)() as session:
        regions = read_regions(session, REGIONS)
        south = gather(session, now=now, window=timedelta(hours=1), scope=regions.scope({2}))
        north = gather(session, now=now, window=timedelta(hours=1), scope=regions.scope({1}))
    assert "NA1" in {e.account for e in south.items}
    assert "NA1" not in {e.account for e in north.items}
