"""Engines side by side on the grid of two regions (`tests/outage/regions_grid.py`): each
works its own region's evidence and incidents, a closed tie has one engine work both as one
network, and a killed engine's region is taken over by a waiting one, with the incidents
they would have had."""

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from outage import locks
from outage.db import session_factory, session_scope
from outage.grid.models import Device
from outage.grid.regions import read_regions
from outage.incidents.lifecycle import ACTIVE
from outage.incidents.models import Incident, IncidentEvidence
from outage.intake.meter_batches import record_meter_events
from outage.intake.schemas import MeterEventsIn
from outage.prediction.claims import Claims, claim
from outage.prediction.engine import Engine, cycle_if_held, listening_connection, run_forever
from tests.conftest import own_database
from tests.faults.conftest import wait_for
from tests.outage.regions_grid import REGIONS, accounts, meter, operate, two_region_grid

WINDOW = timedelta(hours=4)
POLL_S = 0.2
"""How often a test's waiting engine tries for its region."""
ROOT = Path(__file__).resolve().parents[3]
"""The repository: where a spawned engine finds this module."""
TAKEOVER_S = 5.0
"""Within this a waiting engine works the region of one killed."""


@dataclass(frozen=True, order=True)
class Seen:
    """An active incident as a run leaves it."""

    device: str | None
    evidence: int
    customers: int


def _session(url: str) -> Session:
    return session_factory(url)()


def _incidents(url: str) -> list[Seen]:
    with _session(url) as session:
        rows = session.execute(
            select(Device.asset_ref, func.count(IncidentEvidence.id), Incident.customers_affected)
            .select_from(Incident)
            .outerjoin(Device, Device.id == Incident.device_id)
            .outerjoin(IncidentEvidence, IncidentEvidence.incident_id == Incident.id)
            .where(Incident.status.in_(sorted(ACTIVE)))
            .group_by(Incident.id, Device.asset_ref)
        )
        return sorted(Seen(device, evidence, customers) for device, evidence, customers in rows)


def _holders(url: str) -> dict[int, int]:
    """Region -> the backend holding its engine lock."""
    with _session(url) as session:
        rows = session.execute(
            text(
                "SELECT objid, pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND classid = :space AND objsubid = 2 AND database ="
                " (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"space": int(locks.LockSpace.ENGINE_REGION)},
        )
        return {int(region): pid for region, pid in rows}


def _waiting_engines(url: str) -> int:
    """Engines trying for a region they do not hold."""
    holders = set(_holders(url).values())
    with _session(url) as session:
        pids = session.scalars(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND query LIKE 'SELECT pg_try_advisory_lock%'"
            )
        )
        return len(set(pids) - holders)


def _gasp(url: str, gasping: Sequence[str]) -> None:
    at = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    events = [{"meter_id": meter(a), "event": "last_gasp", "occurred_at": at} for a in gasping]
    with session_scope(session_factory(url)) as session:
        record_meter_events(session, MeterEventsIn(events=events), max_age=timedelta(days=1))


def _work(url: str, region: int, stop: threading.Event | None = None) -> None:
    """An engine, in a thread or a process of its own (spawned: a fresh interpreter, as
    `outage serve` starts one, with every table known)."""
    import outage.models  # noqa: F401

    run_forever(url, window=WINDOW, region=region, stop=stop or threading.Event(), poll_s=POLL_S)


def _engine(url: str, region: int) -> Engine:
    with _session(url) as session:
        scope = read_regions(session, REGIONS).scope({region})
        return Engine.load(session, window=WINDOW, scope=scope)


def _cycle(url: str, engine: Engine) -> None:
    with session_scope(session_factory(url)) as session:
        engine.run_cycle(session)
    engine.committed()


def test_each_engine_opens_the_incidents_of_its_own_region_alone(
    regions_database: str, engine_regions: None
) -> None:
    north, south = _engine(regions_database, 1), _engine(regions_database, 2)
    _gasp(regions_database, accounts("N", "A")[:3] + accounts("S", "B")[:3])
    _cycle(regions_database, north)
    assert _incidents(regions_database) == [Seen("FU-A-N", 3, 4)]
    _cycle(regions_database, south)
    assert _incidents(regions_database) == [Seen("FU-A-N", 3, 4), Seen("FU-B-S", 3, 4)]


def test_an_engine_loads_only_its_regions_network(
    regions_database: str, engine_regions: None
) -> None:
    network = _engine(regions_database, 1).topology.network
    assert {ref[-2:] for ref in network.links if ref != "TIE"} == {"-N"}
    assert all(a.startswith("N") for found in network.accounts_at.values() for a in found)


@contextmanager
def _engine_thread(url: str, region: int) -> Iterator[None]:
    stop = threading.Event()
    worker = threading.Thread(target=_work, args=(url, region, stop))
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join(timeout=10)


def test_a_closed_tie_has_one_engine_work_both_regions_as_one_network(
    regions_database: str, engine_regions: None
) -> None:
    """South's far end is fed from North through the tie: North's breaker feeds it, and
    an outage there is one incident of sixteen customers, not one per region."""
    url = regions_database
    operate(url, "SW-S", is_open=True)
    operate(url, "TIE", is_open=False)
    with _engine_thread(url, 2):
        assert wait_for(lambda: 2 in _holders(url), 10)
        with _engine_thread(url, 1):
            assert wait_for(lambda: _one_holds(url, {1, 2}), 10)
            north = [a for fuse in "ABC" for a in accounts("N", fuse)]
            _gasp(url, north + accounts("S", "C"))
            assert wait_for(lambda: _incidents(url) == [Seen("BR-N", 16, 16)], 10), _incidents(url)


def _one_holds(url: str, regions: set[int]) -> bool:
    holders = _holders(url)
    return holders.keys() == regions and len(set(holders.values())) == 1


FIRST = accounts("N", "A")[:3] + accounts("S", "A")[:3]
"""The storm before the kill: an outage in each region."""
THEN = accounts("S", "A")[3:] + accounts("S", "B")[:3] + accounts("N", "B")[:3]
"""After it: more of the killed engine's outage, and a new one in each region."""


def _without_a_kill(database_url: str) -> list[Seen]:
    """The same storm worked by two engines that never fail."""
    with own_database(database_url, "outage_regions", two_region_grid()) as url:
        engines = [_engine(url, 1), _engine(url, 2)]
        for gasping in (FIRST, THEN):
            _gasp(url, gasping)
            for engine in engines:
                _cycle(url, engine)
        return _incidents(url)


def _holder_names(url: str) -> dict[int, str]:
    """Region -> the name of the engine holding it (its connections' application name)."""
    with _session(url) as session:
        rows = session.execute(text("SELECT pid, application_name FROM pg_stat_activity"))
        names = {pid: name for pid, name in rows}
    return {region: names.get(pid, "") for region, pid in _holders(url).items()}


def test_a_killed_engines_region_is_taken_over_within_seconds_with_the_same_incidents(
    regions_database: str,
    engine_regions: None,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = regions_database
    monkeypatch.syspath_prepend(ROOT)  # spawned engines import their target from this module
    spawn = multiprocessing.get_context("spawn")
    engines = {
        name: spawn.Process(
            target=_work, args=(f"{url}&application_name={name}", region), daemon=True
        )
        for name, region in (("north", 1), ("south", 2), ("standby", 2))
    }
    for process in engines.values():
        process.start()
    try:
        expected = _without_a_kill(database_url)
        assert wait_for(lambda: _holders(url).keys() == {1, 2} and _waiting_engines(url) == 1, 30)
        _gasp(url, FIRST)
        assert wait_for(lambda: len(_incidents(url)) == 2, 10)
        killed = _holder_names(url)[2]
        os.kill(engines[killed].pid or 0, signal.SIGKILL)
        killed_at = time.monotonic()
        assert wait_for(lambda: _holder_names(url).get(2, killed) != killed, TAKEOVER_S)
        taken_over_s = time.monotonic() - killed_at
        _gasp(url, THEN)
        assert wait_for(lambda: _incidents(url) == expected, 10), (_incidents(url), expected)
    finally:
        for process in engines.values():
            if process.is_alive():
                process.terminate()
            process.join(timeout=10)
    assert taken_over_s < TAKEOVER_S


def test_an_incident_whose_device_left_the_network_is_skipped_not_cancelled(
    regions_database: str, engine_regions: None
) -> None:
    """An import retired its device: the region's cycles go on, and leave it to a person."""
    url = regions_database
    north = _engine(url, 1)
    _gasp(url, accounts("N", "A")[:3])
    _cycle(url, north)
    with session_scope(session_factory(url)) as session:
        session.execute(update(Device).where(Device.asset_ref == "FU-A-N").values(retired_in=1))
    _gasp(url, accounts("N", "B")[:3])
    _cycle(url, _engine(url, 1))
    with _session(url) as session:
        devices = set(
            session.scalars(
                select(Device.asset_ref)
                .join(Incident, Incident.device_id == Device.id)
                .where(Incident.status.in_(sorted(ACTIVE)))
            )
        )
    assert "FU-A-N" in devices
    assert "FU-B-N" in devices


def test_a_cycle_after_the_engine_lost_its_regions_lock_writes_nothing(
    regions_database: str, engine_regions: None
) -> None:
    """Its listening connection was killed: another engine may be working the region."""
    url = regions_database
    listener = listening_connection(url)
    claims = Claims(listener.driver_connection.cursor())
    with _session(url) as session:
        claim(claims, read_regions(session, REGIONS), 1, frozenset())
        session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": claims.pid})
    assert wait_for(lambda: 1 not in _holders(url), 5)
    _gasp(url, accounts("N", "A")[:3])
    try:
        assert not cycle_if_held(session_factory(url), _engine(url, 1), claims)
    finally:
        listener.invalidate()
    assert _incidents(url) == []


def test_the_listening_connection_keeps_tcp_alive(regions_database: str) -> None:
    listener = listening_connection(regions_database)
    try:
        dsn = listener.driver_connection.get_dsn_parameters()
    finally:
        listener.invalidate()
    assert dsn["keepalives"] == "1"
    assert int(dsn["keepalives_idle"]) <= 10


def test_an_engine_names_the_regions_no_engine_works(
    regions_database: str, engine_regions: None, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.ERROR, logger="outage.prediction.engine"),
        _engine_thread(regions_database, 1),
    ):
        assert wait_for(lambda: "no engine works regions [2]" in caplog.text, 10)
