"""Public reads from a read replica: a real streaming-replication standby of the test
cluster (pg_basebackup), on a database of this module's own.

A report accepted on the primary shows on the public map an app serves from the standby
within the lag bound; with the standby held back beyond the bound the map reads the
primary; and nothing the public routes do writes (a standby would refuse it)."""

import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text

from grid_topology.model import GridModel
from grid_topology.topology import Topology
from outage import pgcluster
from outage.app import create_app
from outage.auth.enums import Role
from outage.db import get_engine, get_replica_engine, session_factory, session_scope
from outage.grid.service import load_network
from outage.pages import feed_xml
from outage.prediction.engine import Engine as PredictionEngine
from outage.replica import ReadSessions
from outage.settings import Settings
from tests.conftest import Credentials, issue_credentials, own_database

MAX_LAG = timedelta(seconds=10)
"""The stated bound: the default `replica_max_lag_s`."""
WINDOW = timedelta(hours=4)
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|TRUNCATE)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def primary(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    if "host=" not in database_url:
        pytest.skip("a standby is made of the private test cluster only")
    with own_database(database_url, "outage_replica", sample_grid) as url:
        yield url


@pytest.fixture(scope="module")
def standby(primary: str) -> Iterator[str]:
    """The same database on a standby of the test cluster, streaming from it."""
    data_dir = Path(tempfile.mkdtemp(prefix="outage-standby-", dir="/tmp"))
    data_dir.chmod(0o755)
    url = None
    try:
        url = pgcluster.start_standby(primary, data_dir)
        yield url
    finally:
        if url is not None:
            get_engine(url).dispose()
            get_replica_engine(url).dispose()
        pgcluster.stop(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def staff(primary: str) -> Credentials:
    return issue_credentials(primary, roles=[Role.ADMIN], scopes=[])


@pytest.fixture
def replica_statements(standby: str) -> Iterator[list[str]]:
    """Every statement run on the standby while the test runs."""
    seen: list[str] = []
    engine: Engine = get_replica_engine(standby)

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def _app(primary: str, standby: str | None, **overrides: Any) -> FastAPI:
    """An app whose public reads may go to `standby`; the map's cache all but off, so a
    read shows what the database held then."""
    settings = Settings(
        database_replica_url=standby,
        map_cache_seconds=0.001,
        map_min_customers=1,
        **overrides,
    )
    return create_app(primary, settings)


def _fuses(primary: str, at_least: int) -> Iterator[tuple[str, list[str]]]:
    """Fuses with no protective device below and at least that many customers."""
    with session_scope(session_factory(primary)) as session:
        topology = Topology(load_network(session))
    for link in topology.network.links.values():
        if link.is_protective and link.kind == "fuse":
            below = topology.downstream(link.asset_ref)
            accounts = sorted(below.accounts)
            protective = [d for d in below.devices if topology.network.links[d].is_protective]
            if len(accounts) >= at_least and not protective:
                yield link.asset_ref, accounts


def _outage_from_reports(primary: str, client: TestClient, accounts: list[str]) -> None:
    """Customers report through the API; the engine makes their reports an outage."""
    for account in accounts:
        answer = client.post("/api/v1/reports", json={"account": account})
        assert answer.status_code == 201, answer.text
    with session_scope(session_factory(primary)) as session:
        PredictionEngine.load(session, window=WINDOW).run_cycle(session)


def _outage_cells(client: TestClient) -> int:
    answer = client.get("/api/v1/map/public.geojson")
    assert answer.status_code == 200, answer.text
    return sum(1 for f in answer.json()["features"] if f["properties"]["kind"] == "outage")


def test_the_standby_is_a_standby_of_the_test_database(primary: str, standby: str) -> None:
    with session_factory(standby)() as session:
        assert session.scalar(text("SELECT pg_is_in_recovery()")) is True
        assert session.scalar(text("SELECT current_database()")) in primary


def test_a_report_shows_on_the_map_served_from_the_standby_within_the_bound(
    primary: str, standby: str, replica_statements: list[str]
) -> None:
    fuses = _fuses(primary, 3)
    _, accounts = next(fuses)
    app = _app(primary, standby)
    with TestClient(app) as client:
        assert _outage_cells(client) == 0
        _outage_from_reports(primary, client, accounts[:3])
        accepted = time.monotonic()
        while True:
            asked = len(replica_statements)
            shown = _outage_cells(client) > 0
            if shown and any("incidents" in s for s in replica_statements[asked:]):
                break  # this very answer was read on the standby, and shows the outage
            assert time.monotonic() - accepted < MAX_LAG.total_seconds(), "not in time"
            time.sleep(0.02)
        elapsed = time.monotonic() - accepted
    chooser: ReadSessions = app.state.read_sessions
    assert chooser.last is not None and chooser.last.within(MAX_LAG)
    print(f"the outage showed on the standby's map {elapsed:.3f} s after it was accepted")
    assert elapsed < MAX_LAG.total_seconds()


def test_a_standby_behind_the_bound_leaves_the_map_to_the_primary(
    primary: str, standby: str, caplog: pytest.LogCaptureFixture
) -> None:
    fuses = _fuses(primary, 3)
    next(fuses)  # the first test's
    _, accounts = next(fuses)
    app = _app(primary, standby, replica_max_lag_s=1)
    replica = get_engine(standby)
    with replica.connect() as connection:
        connection.execute(text("SELECT pg_wal_replay_pause()"))
        connection.commit()
    try:
        with TestClient(app) as client:
            before = _outage_cells(client)
            _outage_from_reports(primary, client, accounts[:3])
            time.sleep(1.5)  # the standby's last replayed commit is older than the bound
            assert _outage_cells(client) > before
        reports = text("SELECT count(*) FROM reports")
        with replica.connect() as connection:
            standby_has = connection.scalar(reports)
        with session_scope(session_factory(primary)) as session:
            primary_has = session.scalar(reports)
        assert standby_has is not None and primary_has is not None
        assert standby_has == primary_has - 3  # the standby has not the new reports yet
        chooser: ReadSessions = app.state.read_sessions
        assert chooser.last is not None and chooser.last.seconds is not None
        assert chooser.last.seconds > 1
        assert "public reads go to the primary" in caplog.text
    finally:
        with replica.connect() as connection:
            connection.execute(text("SELECT pg_wal_replay_resume()"))
            connection.commit()


def test_the_public_routes_read_the_standby_and_write_nothing_there(
    primary: str, standby: str, staff: Credentials, replica_statements: list[str]
) -> None:
    with session_scope(session_factory(primary)) as session:
        address, lat, lon = session.execute(
            text("SELECT address, ST_Y(geom), ST_X(geom) FROM premises ORDER BY id LIMIT 1")
        ).one()
    app = _app(primary, standby)
    with TestClient(app, headers=staff.staff(Role.ADMIN)) as client:
        period = {"start": "2025-01-01", "end": "2025-01-31"}
        for path, params in [
            ("/api/v1/map/public.geojson", {}),
            ("/api/v1/map/outline.geojson", {}),
            ("/api/v1/map/lookup", {"q": address}),
            ("/api/v1/map/lookup", {"lat": lat, "lon": lon}),
            ("/api/v1/public/summary", {}),
            (feed_xml.CAP_PATH, {}),
            (feed_xml.ATOM_PATH, {}),
            ("/api/v1/reliability", period),
            ("/api/v1/reliability.csv", period),
            ("/api/v1/transparency/figures", {}),
            ("/api/v1/transparency/figures.csv", {}),
            ("/transparency", {}),
        ]:
            answer = client.get(path, params=params)
            assert answer.status_code == 200, (path, answer.text[:500])
    assert replica_statements, "nothing was read from the standby"
    assert not [s for s in replica_statements if WRITES.match(s)]
    read = " ".join(replica_statements)
    assert "word_similarity" in read, "the lookup by words read the primary"
    assert "service_areas" in read, "the outline and the lookup by position read the primary"


def test_an_unreachable_replica_leaves_reads_to_the_primary(
    primary: str, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    nowhere = f"postgresql+psycopg2://outage@/outage?host={tmp_path}&port=1"
    app = _app(primary, nowhere)
    with TestClient(app) as client:
        for _ in range(3):
            assert client.get("/api/v1/map/public.geojson").status_code == 200
    chooser: ReadSessions = app.state.read_sessions
    assert chooser.last is not None and chooser.last.seconds is None
    assert caplog.text.count("cannot be reached") == 1


def test_without_a_replica_public_reads_use_the_primary(primary: str) -> None:
    app = _app(primary, None)
    chooser: ReadSessions = app.state.read_sessions
    assert app.state.replica_sessions is None
    assert chooser.fresh() is app.state.sessions
    assert chooser.choose() is app.state.sessions
