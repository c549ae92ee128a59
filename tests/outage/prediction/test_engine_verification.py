"""A fault left behind by a restoration, found by the meters asked when it was restored:
the listening engine, the pings' sender and a head-end answering after a set latency, on
a database of the module's own."""

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from grid_topology.model import GridModel
from grid_topology.topology import Network, Topology
from outage.app import create_app
from outage.auth.enums import Role, Scope
from outage.db import session_factory
from outage.incidents.models import Incident
from outage.intake.jobs import jobs
from outage.prediction.engine import run_forever
from outage.scheduler import build_scheduler
from outage.settings import get_settings
from outage.simulation.headend import SimulatedHeadEnd
from tests.conftest import issue_credentials, own_database, staff_client

T = TypeVar("T")
WINDOW = timedelta(hours=4)
LATENCY_S = 2.0
"""How long the head-end takes to answer each meter."""
INCIDENTS = "/api/v1/incidents"


@pytest.fixture
def database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    """A database of the test's own: the engine reasons over every event in it."""
    with own_database(database_url, "verify", sample_grid) as url:
        yield url


@pytest.fixture(scope="module")
def topology(sample_grid: GridModel) -> Topology:
    return Topology(Network.from_model(sample_grid))


def _fuse_under_a_breaker(topology: Topology, sample_grid: GridModel) -> tuple[str, str]:
    """(breaker, fuse): a feeder's breaker and a fuse below it with customers, and no
    protective device below the fuse."""
    heads = {f.head for f in sample_grid.feeders}
    for link in topology.network.links.values():
        if link.kind != "fuse" or len(topology.downstream(link.asset_ref).accounts) < 3:
            continue
        below = topology.downstream(link.asset_ref).devices
        if any(topology.network.links[d].is_protective for d in below):
            continue
        breaker = next((d for d in topology.upstream(link.asset_ref).devices if d in heads), None)
        if breaker is not None:
            return breaker, link.asset_ref
    raise AssertionError("no such fuse")


def _wait_for(find: Callable[[], T | None], within_s: float) -> T:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        found = find()
        if found is not None:
            return found
        time.sleep(0.05)
    raise AssertionError(f"nothing within {within_s} s")


@pytest.mark.latency
@pytest.mark.parametrize("gasped", [False, True], ids=["silent", "gasped"])
def test_a_fuse_left_open_under_a_restored_feeder_opens_a_nested_incident_within_the_ping_latency(
    database: str,
    topology: Topology,
    sample_grid: GridModel,
    name_headend: Callable[[str], None],
    gasped: bool,
) -> None:
    """The fuse's customers sent no last gasp (or sent it when the breaker tripped): when
    the breaker closes, the meters asked below it answer, and those under the fuse are off."""
    breaker, fuse = _fuse_under_a_breaker(topology, sample_grid)
    below = topology.downstream(fuse).accounts
    out = {p.meter_id for p in sample_grid.premises if p.meter_id and p.customer.account in below}
    credentials = issue_credentials(database, roles=[Role.ADMIN], scopes=[Scope.AMI])
    stop = threading.Event()
    with (
        staff_client(create_app(database), credentials) as api,
        TestClient(create_app(database), headers=credentials.key(Scope.AMI)) as ami,
        SimulatedHeadEnd(
            lambda answers: ami.post(
                "/api/v1/ami/pings/answers", json={"answers": answers}
            ).raise_for_status(),
            lambda meter: meter in out,
            latency_s=(LATENCY_S, LATENCY_S),
            loss=0.0,
        ) as headend,
    ):
        name_headend(headend.url)
        sessions = session_factory(database)
        scheduler = build_scheduler(sessions, get_settings(), [jobs(sessions, get_settings())])
        engine = threading.Thread(
            target=run_forever, args=(database,), kwargs={"window": WINDOW, "stop": stop}
        )
        scheduler.start()
        engine.start()
        try:
            opened = datetime.now(UTC) - timedelta(minutes=40)
            _scada(api, breaker, "open", opened)
            if gasped:
                gasps = [
                    {"meter_id": m, "event": "last_gasp", "occurred_at": opened.isoformat()}
                    for m in sorted(out)
                ]
                api.post("/api/v1/ami/events", json={"events": gasps}).raise_for_status()
            parent = _wait_for(lambda: _active_on(api, breaker), within_s=30)
            closed = time.monotonic()
            _scada(api, breaker, "closed", datetime.now(UTC))
            nested = _wait_for(lambda: _nested_in(sessions, parent["id"]), within_s=LATENCY_S + 1)
            found_s = time.monotonic() - closed
            nested_on = api.get(f"{INCIDENTS}/{nested.id}").json()["device"]["asset_ref"]
        finally:
            stop.set()
            scheduler.shutdown(wait=False)
            engine.join(timeout=10)
    assert nested_on in {fuse, *topology.downstream(fuse).devices}
    assert found_s < LATENCY_S + 1
    assert {m for r in headend.requests for m in r["meters"]} & out


def _scada(api: TestClient, device: str, state: str, at: datetime) -> None:
    event = {"asset_ref": device, "state": state, "occurred_at": at.isoformat()}
    api.post("/api/v1/scada/events", json=event).raise_for_status()


def _active_on(api: TestClient, device: str) -> dict | None:  # type: ignore[type-arg]
    incidents = api.get(INCIDENTS, params={"status": "active"}).json()
    return next((i for i in incidents if (i.get("device") or {}).get("asset_ref") == device), None)


def _nested_in(sessions: sessionmaker[Session], parent_id: int) -> Incident | None:
    with sessions() as session:
        return session.scalars(select(Incident).where(Incident.parent_id == parent_id)).first()
