"""A storm replayed against a real server while PostgreSQL restarts and the SMS gateway fails.

`outage serve --role all` runs in a child process on a private cluster of its own; the
simulated customers and meters report through the HTTP channels with their idempotency
keys, retrying what gets no answer or a 5xx. Mid-storm the cluster is stopped and started
again, then the SMS gateway (the notifications' HTTP sink) refuses everything for a while.
Afterwards: every accepted report is in the database exactly once, nothing was lost, the
engine put every report on an incident, and every notification reached the gateway once.
"""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from benchmarks.harness import free_port
from grid_topology.model import GridModel
from outage import pgcluster
from outage.auth import service as auth
from outage.auth.enums import Role, Scope
from outage.db import session_factory, session_scope
from outage.grid.service import save_grid
from outage.notifications.sink import HttpSink, running_sink
from outage.simulation.client import RetryPolicy, StormClient
from outage.simulation.runner import StormOptions, StormRunner, StormState
from outage.simulation.storm import StormGrid
from tests.conftest import issue_credentials

STORM_S = 30.0
"""Wall time of the storm; what is due later is not sent."""
RESTART_AT_S = 6.0
DATABASE_DOWN_S = 3.0
GATEWAY_FAILS_AT_S = 14.0
GATEWAY_DOWN_S = 8.0
CATCH_UP_S = 40.0


@contextmanager
def _server(database_url: str, env: dict[str, str], log: Path) -> Iterator[str]:
    """`outage serve --role all` in a child process, its output in a file (a pipe nobody
    reads would fill and stall it)."""
    port = free_port()
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "outage", "serve", "--role", "all", "--port", str(port)],
            env={**os.environ, "DATABASE_URL": database_url, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            ready = _wait_for(lambda: _healthy(url), 60)
            assert ready, log.read_text()[-3000:]
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _restart(data_dir: Path) -> None:
    pgcluster.stop(data_dir)
    time.sleep(DATABASE_DOWN_S)
    pgcluster.ensure_running(data_dir, fast=True)


async def _storm_with_faults(runner: StormRunner, data_dir: Path, sink: HttpSink) -> StormState:
    async def chaos() -> None:
        await asyncio.sleep(RESTART_AT_S)
        await asyncio.to_thread(_restart, data_dir)
        await asyncio.sleep(max(0.0, GATEWAY_FAILS_AT_S - RESTART_AT_S - DATABASE_DOWN_S))
        sink.fail(seconds=GATEWAY_DOWN_S)
        await asyncio.sleep(STORM_S - GATEWAY_FAILS_AT_S)
        runner.stop()

    playing = asyncio.create_task(runner.run())
    await chaos()
    return await playing


def _wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return check()


@pytest.fixture(scope="module")
def outcome(
    cluster: tuple[Path, str], sample_grid: GridModel
) -> Iterator[tuple[StormState, HttpSink, str]]:
    data_dir, url = cluster
    with session_scope(session_factory(url)) as session:
        save_grid(session, sample_grid)
    credentials = issue_credentials(url, roles=[Role.DISPATCHER], scopes=[])
    with session_scope(session_factory(url)) as session:
        _, key = auth.create_api_key(
            session, name="storm-gateway", scopes=[Scope.CHANNELS, Scope.AMI]
        )
    with running_sink() as sink:
        env = {
            "OUTAGE_RATE_LIMIT_PER_IP": "1000000/second",
            "OUTAGE_RATE_LIMIT_PER_PHONE": "1000000/second",
            "OUTAGE_SMTP_RECEIVER_PORT": "0",
            "OUTAGE_NOTIFY_SMS_URL": sink.apprise_url("sms"),
            "OUTAGE_NOTIFY_QUIET_HOURS": "00:00-00:00",
            "OUTAGE_NOTIFY_BACKOFF_SECONDS": "1",
            "OUTAGE_NOTIFY_BACKOFF_MAX_SECONDS": "2",
            "OUTAGE_NOTIFY_MAX_ATTEMPTS": "100",
        }
        with _server(url, env, data_dir / "server.log") as server_url:

            async def play() -> StormState:
                async with StormClient(
                    server_url,
                    gateway_key=key,
                    token=credentials.tokens[Role.DISPATCHER],
                    retry=RetryPolicy(give_up_after_s=60.0),
                ) as client:
                    runner = StormRunner(
                        StormGrid.from_model(sample_grid),
                        client,
                        StormOptions(faults=5, call_rate=0.3, seed=11, speed=120.0, crews=False),
                        run_id="faults",
                    )
                    return await _storm_with_faults(runner, data_dir, sink)

            state = asyncio.run(play())
            database = create_engine(url)

            def count(query: str) -> int:
                with database.connect() as connection:
                    return int(connection.scalar(text(query)) or 0)

            _wait_for(
                lambda: (
                    count(
                        "SELECT count(*) FROM reports WHERE status IN ('received', 'duplicate')"
                        " AND incident_id IS NULL"
                    )
                    == 0
                ),
                CATCH_UP_S,
            )
            _wait_for(
                lambda: (
                    count(
                        "SELECT count(*) FROM notifications WHERE status IN ('pending', 'sending')"
                    )
                    == 0
                ),
                CATCH_UP_S,
            )
            database.dispose()
        yield state, sink, url


def _scalar(url: str, query: str, **params: object) -> int:
    database = create_engine(url)
    try:
        with database.connect() as connection:
            return int(connection.scalar(text(query), params) or 0)
    finally:
        database.dispose()


def test_the_faults_happened_during_the_storm(outcome: tuple[StormState, HttpSink, str]) -> None:
    state, sink, _ = outcome
    assert state.tally.retries > 0  # the restart was felt
    assert sink.state.refused > 0  # so was the gateway's failure
    assert len(state.receipts) >= 20


def test_no_report_was_lost(outcome: tuple[StormState, HttpSink, str]) -> None:
    state, _, _ = outcome
    refused = [(r.sent.status, r.sent.body) for r in state.receipts if not r.sent.accepted]
    assert refused == []


def test_every_accepted_report_is_stored_exactly_once(
    outcome: tuple[StormState, HttpSink, str],
) -> None:
    state, _, url = outcome
    tickets = [r.ticket for r in state.receipts]
    assert all(tickets)
    assert len(set(tickets)) == len(tickets)
    stored = _scalar(url, "SELECT count(*) FROM reports WHERE ticket = ANY(:t)", t=tickets)
    assert stored == len(tickets)
    assert _scalar(url, "SELECT count(*) FROM reports") == len(tickets)


def test_every_last_gasp_is_stored_once(outcome: tuple[StormState, HttpSink, str]) -> None:
    state, _, url = outcome
    assert state.gasps > 0
    assert _scalar(url, "SELECT count(*) FROM meter_events") == state.gasps


def test_the_engine_caught_up_with_every_report(outcome: tuple[StormState, HttpSink, str]) -> None:
    state, _, url = outcome
    unplaced = _scalar(
        url,
        "SELECT count(*) FROM reports WHERE status IN ('received', 'duplicate')"
        " AND incident_id IS NULL",
    )
    assert unplaced == 0
    reported = {r.contact.fault for r in state.receipts if r.contact.fault}
    devices = _scalar(
        url,
        "SELECT count(DISTINCT d.asset_ref) FROM incidents i JOIN devices d"
        " ON d.id = i.device_id WHERE d.asset_ref = ANY(:faults)",
        faults=sorted(reported),
    )
    assert devices >= len(reported) // 2


def test_every_notification_reached_the_gateway_once(
    outcome: tuple[StormState, HttpSink, str],
) -> None:
    _, sink, url = outcome
    sent = _scalar(url, "SELECT count(*) FROM notifications WHERE status = 'sent'")
    assert sent > 0
    assert _scalar(url, "SELECT count(*) FROM notifications WHERE status <> 'sent'") == 0
    assert len(sink.received()) == sent
    assert sink.state.repeats == 0
