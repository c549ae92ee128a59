"""A storm replayed while the background work is killed at random points, with a poison
event in the outbox.

`outage serve --role api` answers the customers; `outage serve --role engine` (the
prediction engine, the dispatch planner and the delivery workers) is killed with SIGKILL
at random moments of the storm and started again each time. Mid-storm an ETR event that
no message can show is written to the outbox, as a row from before its value was checked
would be. Afterwards every accepted report is stored once, every deliverable message
reached the gateway once, and the poison event is dead-lettered with its reason.
"""

import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from benchmarks.harness import free_port
from grid_topology.model import GridModel
from outage import pgcluster
from outage.auth import service as auth
from outage.auth.enums import Role, Scope
from outage.db import run_migrations, session_factory, session_scope
from outage.grid.service import save_grid
from outage.notifications.sink import HttpSink, running_sink
from outage.simulation.client import RetryPolicy, StormClient
from outage.simulation.runner import StormOptions, StormRunner, StormState
from outage.simulation.storm import StormGrid
from tests.conftest import issue_credentials, make_crew

STORM_S = 30.0
KILLS = 4
"""How often the engine process is killed during the storm."""
POISON_AT_S = 8.0
CATCH_UP_S = 60.0
POISON_ETR = "9999-12-31T20:00:00+00:00"
UNPLACED = (
    "SELECT count(*) FROM reports WHERE status IN ('received', 'duplicate') AND incident_id IS NULL"
)
"""Reports the engine has not put on an incident yet."""
UNDELIVERED = (
    "SELECT (SELECT count(*) FROM notification_events WHERE expanded_at IS NULL"
    " AND dead_at IS NULL)"
    " + (SELECT count(*) FROM notifications WHERE status IN ('pending', 'sending'))"
)
"""Events and messages still to go out."""

ENV = {
    "OUTAGE_RATE_LIMIT_PER_IP": "1000000/second",
    "OUTAGE_RATE_LIMIT_PER_PHONE": "1000000/second",
    "OUTAGE_SMTP_RECEIVER_PORT": "0",
    "OUTAGE_NOTIFY_QUIET_HOURS": "00:00-00:00",
    "OUTAGE_NOTIFY_BACKOFF_SECONDS": "0.5",
    "OUTAGE_NOTIFY_BACKOFF_MAX_SECONDS": "1",
    "OUTAGE_NOTIFY_MAX_ATTEMPTS": "100",
    "OUTAGE_NOTIFY_LEASE_SECONDS": "3",
    "OUTAGE_DISPATCH_REPLAN_S": "2",
    "OUTAGE_DISPATCH_TIME_LIMIT_S": "1",
}
"""Quick retries and leases, so what a killed worker held comes back within the test."""


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A private cluster of this test's own."""
    data_dir = Path(tempfile.mkdtemp(prefix="outage-chaos-"))
    data_dir.chmod(0o755)
    try:
        url = pgcluster.ensure_running(data_dir, fast=True)
        run_migrations(url)
        yield url
    finally:
        pgcluster.stop(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


def _start(role: str, database_url: str, env: dict[str, str], log: Path, port: int) -> Any:
    output = open(log, "ab")  # noqa: SIM115  (the child writes to it until it is killed)
    return subprocess.Popen(
        [sys.executable, "-m", "outage", "serve", "--role", role, "--port", str(port)],
        env={**os.environ, "DATABASE_URL": database_url, **env},
        stdout=output,
        stderr=subprocess.STDOUT,
    )


def _wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return check()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Engine:
    """The `--role engine` process, killed and started again on demand."""

    database_url: str
    env: dict[str, str]
    log: Path
    process: Any = None
    kills: int = 0

    def start(self) -> None:
        self.process = _start("engine", self.database_url, self.env, self.log, free_port())

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.kills += 1
        self.start()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@contextmanager
def _api(database_url: str, env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    process = _start("api", database_url, env, log, port)
    url = f"http://127.0.0.1:{port}"
    try:
        assert _wait_for(lambda: _healthy(url), 60), log.read_text()[-3000:]
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _scalar(url: str, query: str, **params: object) -> int:
    database = create_engine(url)
    try:
        with database.connect() as connection:
            return int(connection.scalar(text(query), params) or 0)
    finally:
        database.dispose()


def _poison(url: str) -> int:
    """An ETR event no message can show, on the first active incident; its id."""
    database = create_engine(url)
    try:
        with database.begin() as connection:
            return int(
                connection.scalar(
                    text(
                        "INSERT INTO notification_events (kind, incident_id, device_id, premise_id,"
                        " safety, details)"
                        " SELECT 'etr_set', id, device_id, premise_id, false,"
                        " jsonb_build_object('etr', CAST(:etr AS text))"
                        " FROM incidents WHERE status IN ('predicted', 'confirmed')"
                        " ORDER BY id LIMIT 1 RETURNING id"
                    ),
                    {"etr": POISON_ETR},
                )
            )
    finally:
        database.dispose()


async def _storm_with_kills(
    runner: StormRunner, engine: Engine, url: str, seed: int
) -> tuple[StormState, int]:
    chance = random.Random(seed)
    kill_at = sorted(chance.uniform(2.0, STORM_S - 2.0) for _ in range(KILLS))
    poison: list[int] = []

    async def chaos() -> None:
        started = time.monotonic()
        for moment in kill_at:
            await asyncio.sleep(max(0.0, moment - (time.monotonic() - started)))
            await asyncio.to_thread(engine.kill)
            if not poison and time.monotonic() - started >= POISON_AT_S:
                await asyncio.to_thread(
                    _wait_for,
                    lambda: _scalar(url, "SELECT count(*) FROM incidents") > 0,
                    STORM_S,
                )
                poison.append(await asyncio.to_thread(_poison, url))
        await asyncio.sleep(max(0.0, STORM_S - (time.monotonic() - started)))
        runner.stop()

    playing = asyncio.create_task(runner.run())
    await chaos()
    state = await playing
    if not poison:
        poison.append(_poison(url))
    return state, poison[0]


@dataclass(frozen=True)
class Outcome:
    state: StormState
    sink: HttpSink
    url: str
    kills: int
    poison_id: int


@pytest.fixture(scope="module")
def outcome(cluster: str, sample_grid: GridModel, tmp_path_factory: pytest.TempPathFactory):
    url = cluster
    logs = tmp_path_factory.mktemp("chaos")
    with session_scope(session_factory(url)) as session:
        save_grid(session, sample_grid)
        for number in range(3):
            make_crew(session, f"chaos crew {number}")
    credentials = issue_credentials(url, roles=[Role.DISPATCHER], scopes=[])
    with session_scope(session_factory(url)) as session:
        _, key = auth.create_api_key(
            session, name="chaos-gateway", scopes=[Scope.CHANNELS, Scope.AMI]
        )
    with running_sink() as sink:
        env = {**ENV, "OUTAGE_NOTIFY_SMS_URL": sink.apprise_url("sms")}
        engine = Engine(url, env, logs / "engine.log")
        engine.start()
        try:
            with _api(url, env, logs / "api.log") as api_url:

                async def play() -> tuple[StormState, int]:
                    async with StormClient(
                        api_url,
                        gateway_key=key,
                        token=credentials.tokens[Role.DISPATCHER],
                        retry=RetryPolicy(give_up_after_s=60.0),
                    ) as client:
                        runner = StormRunner(
                            StormGrid.from_model(sample_grid),
                            client,
                            StormOptions(
                                faults=5, call_rate=0.3, seed=23, speed=120.0, crews=False
                            ),
                            run_id="chaos",
                        )
                        return await _storm_with_kills(runner, engine, url, seed=23)

                state, poison_id = asyncio.run(play())
                _wait_for(lambda: _scalar(url, UNPLACED) == 0, CATCH_UP_S)
                _wait_for(lambda: _scalar(url, UNDELIVERED) == 0, CATCH_UP_S)
        finally:
            engine.stop()
        yield Outcome(state, sink, url, engine.kills, poison_id)


def test_the_engine_was_killed_during_the_storm(outcome: Outcome) -> None:
    assert outcome.kills == KILLS
    assert len(outcome.state.receipts) >= 20


def test_every_accepted_report_is_stored_exactly_once(outcome: Outcome) -> None:
    tickets = [r.ticket for r in outcome.state.receipts]
    assert all(tickets) and len(set(tickets)) == len(tickets)
    assert _scalar(outcome.url, "SELECT count(*) FROM reports") == len(tickets)


def test_the_engine_caught_up_with_every_report(outcome: Outcome) -> None:
    assert _scalar(outcome.url, UNPLACED) == 0


def test_every_deliverable_message_reached_the_gateway_once(outcome: Outcome) -> None:
    sent = _scalar(outcome.url, "SELECT count(*) FROM notifications WHERE status = 'sent'")
    assert sent > 0
    assert (
        _scalar(
            outcome.url,
            "SELECT count(*) FROM notifications WHERE status IN ('pending', 'sending', 'dead')",
        )
        == 0
    )
    assert len(outcome.sink.received()) == sent


def test_every_event_but_the_poison_was_fanned_out(outcome: Outcome) -> None:
    stuck = _scalar(
        outcome.url,
        "SELECT count(*) FROM notification_events WHERE expanded_at IS NULL AND id <> :poison",
        poison=outcome.poison_id,
    )
    assert stuck == 0


def test_the_poison_event_is_dead_lettered_with_its_reason(outcome: Outcome) -> None:
    reason = _scalar(
        outcome.url,
        "SELECT count(*) FROM notification_events WHERE id = :poison AND dead_at IS NOT NULL"
        " AND last_error LIKE '%cannot be shown in local time%'",
        poison=outcome.poison_id,
    )
    assert reason == 1
