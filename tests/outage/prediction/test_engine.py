"""The engine against real PostGIS: reports in, incidents out, through the API."""

import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from grid_topology.model import GridModel
from grid_topology.topology import Topology
from outage.db import session_factory, session_scope
from outage.incidents.changes import (
    PredictionUpdate,
    UpdatedPredictions,
    cancel,
    update_prediction,
)
from outage.incidents.evidence import EvidenceRef
from outage.incidents.models import IncidentEvidence
from outage.prediction import engine as engine_module
from outage.prediction.engine import CycleResult, Engine, run_forever

WINDOW = timedelta(hours=4)


def _fuse_with_customers(topology: Topology, at_least: int) -> tuple[str, list[str]]:
    for link in topology.network.links.values():
        if link.is_protective and link.kind == "fuse":
            accounts = sorted(topology.downstream(link.asset_ref).accounts)
            below = [
                d
                for d in topology.downstream(link.asset_ref).devices
                if topology.network.links[d].is_protective
            ]
            if len(accounts) >= at_least and not below:
                return link.asset_ref, accounts
    raise AssertionError("no such fuse")


def _cycle(database_url: str) -> None:
    with session_scope(session_factory(database_url)) as session:
        engine = Engine.load(session, window=WINDOW)
        engine.run_cycle(session)


def _report(api: TestClient, account: str) -> dict:  # type: ignore[type-arg]
    response = api.post("/api/v1/reports", json={"account": account})
    assert response.status_code == 201
    return response.json()


def test_calls_on_one_lv_feeder_open_an_incident_on_its_fuse(
    api: TestClient, engine_db: str, topology: Topology
) -> None:
    fuse, accounts = _fuse_with_customers(topology, 6)
    for account in accounts[:3]:
        _report(api, account)
    _cycle(engine_db)
    (incident,) = api.get("/api/v1/incidents", params={"status": "active"}).json()
    assert incident["device"]["asset_ref"] == fuse
    assert incident["customers_affected"] == len(accounts)
    assert incident["report_count"] == 3
    assert incident["status"] == "predicted"


def test_report_status_names_its_incident(
    api: TestClient, engine_db: str, topology: Topology
) -> None:
    _, accounts = _fuse_with_customers(topology, 6)
    tickets = [_report(api, account)["ticket"] for account in accounts[:3]]
    _cycle(engine_db)
    (incident,) = api.get("/api/v1/incidents", params={"status": "active"}).json()
    assert api.get(f"/api/v1/reports/{tickets[0]}").json()["incident_id"] == incident["id"]


def test_a_lone_call_is_a_single_service_outage(api: TestClient, engine_db: str) -> None:
    account = "LV4.303 Load 19"
    _report(api, account)
    _cycle(engine_db)
    (incident,) = api.get("/api/v1/incidents", params={"status": "active"}).json()
    assert incident["customers_affected"] == 1


def test_second_cycle_without_new_evidence_changes_nothing(
    api: TestClient, engine_db: str, topology: Topology
) -> None:
    _, accounts = _fuse_with_customers(topology, 6)
    for account in accounts[:3]:
        _report(api, account)
    _cycle(engine_db)
    before = api.get("/api/v1/incidents", params={"status": "active"}).json()
    _cycle(engine_db)
    assert api.get("/api/v1/incidents", params={"status": "active"}).json() == before


def _gasps(api: TestClient, sample_grid: GridModel, accounts: list[str]) -> None:
    meter_of = {p.customer.account: p.meter_id for p in sample_grid.premises}
    at = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    events = [{"meter_id": meter_of[a], "event": "last_gasp", "occurred_at": at} for a in accounts]
    api.post("/api/v1/ami/events", json={"events": events}).raise_for_status()


def _evidence_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(IncidentEvidence)) or 0


@pytest.fixture
def running(engine_db: str) -> tuple[Engine, sessionmaker[Session]]:
    """An engine kept across cycles, as `run_forever` keeps it, and its sessions."""
    sessions = session_factory(engine_db)
    with sessions() as session:
        return Engine.load(session, window=WINDOW), sessions


def _committed_cycle(engine: Engine, sessions: sessionmaker[Session]) -> CycleResult:
    with session_scope(sessions) as session:
        result = engine.run_cycle(session)
    engine.committed()
    return result


@pytest.fixture
def gasped(
    api: TestClient,
    running: tuple[Engine, sessionmaker[Session]],
    topology: Topology,
    sample_grid: GridModel,
) -> list[str]:
    """Three customers under a fuse gasped, and the running engine's committed cycle opened
    their incident; the accounts under the fuse."""
    _, accounts = _fuse_with_customers(topology, 6)
    _gasps(api, sample_grid, accounts[:3])
    assert _committed_cycle(*running).opened == 1
    return accounts


def test_a_running_engine_writes_nothing_to_an_incident_nothing_changed(
    api: TestClient, running: tuple[Engine, sessionmaker[Session]], gasped: list[str]
) -> None:
    (before,) = api.get("/api/v1/incidents", params={"status": "active"}).json()
    assert _committed_cycle(*running).updated == 0
    (after,) = api.get("/api/v1/incidents", params={"status": "active"}).json()
    assert after["version"] == before["version"]


def test_evidence_of_a_cycle_rolled_back_is_attached_by_the_next(
    api: TestClient,
    running: tuple[Engine, sessionmaker[Session]],
    gasped: list[str],
    sample_grid: GridModel,
) -> None:
    engine, sessions = running
    _gasps(api, sample_grid, gasped[3:5])
    with sessions() as session:
        assert engine.run_cycle(session).updated == 1
        session.rollback()
    _committed_cycle(engine, sessions)
    assert _evidence_count(sessions) == 5


def test_evidence_someone_else_took_off_is_attached_again(
    running: tuple[Engine, sessionmaker[Session]], gasped: list[str]
) -> None:
    """The engine trusts what it attached only while nobody else changed the incident."""
    engine, sessions = running
    with session_scope(sessions) as session:
        incident_id, event_id = session.execute(
            select(IncidentEvidence.incident_id, IncidentEvidence.meter_event_id).limit(1)
        ).one()
        taken = [EvidenceRef.meter_event(event_id)]
        update_prediction(session, incident_id, remove_evidence=taken, reason="a split")
    _committed_cycle(engine, sessions)
    assert _evidence_count(sessions) == 3


def test_scada_close_restores_the_incident(
    api: TestClient, engine_db: str, topology: Topology
) -> None:
    fuse, _ = _fuse_with_customers(topology, 6)
    opened = datetime.now(UTC) - timedelta(minutes=40)
    api.post(
        "/api/v1/scada/events",
        json={"asset_ref": fuse, "state": "open", "occurred_at": opened.isoformat()},
    )
    _cycle(engine_db)
    (incident,) = api.get("/api/v1/incidents", params={"status": "active"}).json()
    assert incident["device"]["asset_ref"] == fuse
    assert incident["confidence"] == 1.0
    closed = opened + timedelta(minutes=30)
    api.post(
        "/api/v1/scada/events",
        json={"asset_ref": fuse, "state": "closed", "occurred_at": closed.isoformat()},
    )
    _cycle(engine_db)
    assert api.get("/api/v1/incidents", params={"status": "active"}).json() == []


def test_hazard_report_opens_a_hazard_incident(api: TestClient, engine_db: str) -> None:
    api.post("/api/v1/reports", json={"account": "LV4.303 Load 19", "hazard": "wires_down"})
    _cycle(engine_db)
    incidents = api.get("/api/v1/incidents", params={"status": "active"}).json()
    assert "wires_down" in {i.get("hazard") for i in incidents}


def test_hazard_report_waiting_for_an_agent_opens_a_hazard_incident(
    api: TestClient, engine_db: str
) -> None:
    """A hazard does not wait for an agent to place it: the engine opens it unplaced."""
    report = {"address": "somewhere nobody can find", "hazard": "fire"}
    receipt = api.post("/api/v1/reports", json=report).json()
    assert receipt["status"] == "needs_agent"
    _cycle(engine_db)
    incidents = api.get("/api/v1/incidents", params={"status": "active"}).json()
    assert any(i.get("hazard") == "fire" and i.get("device") is None for i in incidents)


@pytest.mark.latency
def test_listening_engine_shows_a_report_as_an_incident_within_a_second(
    api: TestClient, engine_db: str, topology: Topology
) -> None:
    _, accounts = _fuse_with_customers(topology, 6)
    stop = threading.Event()
    ready = threading.Event()
    worker = threading.Thread(
        target=run_forever, args=(engine_db,), kwargs={"window": WINDOW, "stop": stop}
    )
    handler = _Ready(ready)
    logger = logging.getLogger(run_forever.__module__)
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    worker.start()
    try:
        assert ready.wait(30)  # the engine holds its lock and the network
        sent = time.monotonic()
        _report(api, accounts[0])
        while time.monotonic() - sent < 5:
            if api.get("/api/v1/incidents", params={"status": "active"}).json():
                break
            time.sleep(0.02)
        elapsed = time.monotonic() - sent
    finally:
        stop.set()
        worker.join(timeout=10)
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert elapsed < 1.0


class _Ready(logging.Handler):
    """Sets its event when the engine says it is ready."""

    def __init__(self, ready: threading.Event) -> None:
        super().__init__()
        self.ready = ready

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("engine ready"):
            self.ready.set()


def test_customers_still_out_after_upstream_restore_get_a_nested_incident(
    api: TestClient, engine_db: str, topology: Topology, sample_grid: GridModel
) -> None:
    fuse, accounts = _fuse_with_customers(topology, 6)
    breaker = next(
        d for d in topology.upstream(fuse).devices if d in {f.head for f in sample_grid.feeders}
    )
    meter_of = {p.customer.account: p.meter_id for p in sample_grid.premises}
    opened = datetime.now(UTC) - timedelta(minutes=40)
    api.post(
        "/api/v1/scada/events",
        json={"asset_ref": breaker, "state": "open", "occurred_at": opened.isoformat()},
    )
    gasps = [
        {"meter_id": meter_of[a], "event": "last_gasp", "occurred_at": opened.isoformat()}
        for a in accounts[:4]
    ]
    api.post("/api/v1/ami/events", json={"events": gasps})
    _cycle(engine_db)
    (parent,) = api.get("/api/v1/incidents", params={"status": "active"}).json()
    assert parent["device"]["asset_ref"] == breaker
    closed = opened + timedelta(minutes=30)
    api.post(
        "/api/v1/scada/events",
        json={"asset_ref": breaker, "state": "closed", "occurred_at": closed.isoformat()},
    )
    _cycle(engine_db)
    (nested,) = api.get("/api/v1/incidents", params={"status": "active"}).json()
    assert nested["device"]["asset_ref"] == fuse
    detail = api.get(f"/api/v1/incidents/{nested['id']}").json()
    assert detail["parent_id"] == parent["id"]


def test_an_incident_changed_under_a_cycle_is_left_alone_and_the_rest_of_the_cycle_stands(
    api: TestClient,
    running: tuple[Engine, sessionmaker[Session]],
    gasped: list[str],
    sample_grid: GridModel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A dispatcher cancelled the incident while a long cycle ran: the engine's update of
    it no longer fits, and only that update is left for the next cycle."""
    engine, sessions = running
    (incident,) = api.get("/api/v1/incidents", params={"status": "active"}).json()
    _gasps(api, sample_grid, gasped[3:5])
    api.post("/api/v1/reports", json={"account": "LV4.303 Load 19", "hazard": "wires_down"})
    real = engine_module.update_predictions

    def cancelled_meanwhile(
        session: Session, updates: Sequence[PredictionUpdate], **kwargs: Any
    ) -> UpdatedPredictions:
        for asked in updates:
            cancel(session, asked.incident_id, actor="dispatcher", reason="nothing found")
        return real(session, updates, **kwargs)

    monkeypatch.setattr(engine_module, "update_predictions", cancelled_meanwhile)
    assert _committed_cycle(engine, sessions).updated == 0
    active = api.get("/api/v1/incidents", params={"status": "active"}).json()
    assert "wires_down" in {i.get("hazard") for i in active}
    detail = api.get(f"/api/v1/incidents/{incident['id']}").json()
    assert (detail["status"], detail["evidence"]["meter_events"]) == ("cancelled", 3)
