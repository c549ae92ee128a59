"""What the fault tests share: a private cluster per module (they stop and start it or kill
the server on it), `outage serve` in child processes, a storm played against them, and
the queries that say whether everything was caught up."""

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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
from outage.simulation.client import RetryPolicy, StormClient
from outage.simulation.runner import StormOptions, StormRunner, StormState
from outage.simulation.storm import StormGrid
from tests.conftest import issue_credentials

STORM_ENV = {
    "OUTAGE_RATE_LIMIT_PER_IP": "1000000/second",
    "OUTAGE_RATE_LIMIT_PER_PHONE": "1000000/second",
    "OUTAGE_SMTP_RECEIVER_PORT": "0",
    "OUTAGE_NOTIFY_QUIET_HOURS": "00:00-00:00",
    "OUTAGE_NOTIFY_MAX_ATTEMPTS": "100",
    "OUTAGE_NOTIFY_FIRST_ETR_WAIT_MINUTES": "0",
}
"""A storm's many customers from one address, no e-mail receiver, no quiet hours, first
notices sent at once, and messages retried until they go."""

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


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[Path, str]]:
    """A private cluster of this module's own, since it gets restarted."""
    data_dir = Path(tempfile.mkdtemp(prefix="outage-faults-"))
    data_dir.chmod(0o755)
    try:
        url = pgcluster.ensure_running(data_dir, fast=True)
        run_migrations(url)
        yield data_dir, url
    finally:
        pgcluster.stop(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


def start_serve(
    role: str, database_url: str, env: dict[str, str], log: Path, port: int
) -> subprocess.Popen[bytes]:
    """`outage serve --role ROLE` in a child process, its output appended to a file (a pipe
    nobody reads would fill and stall it)."""
    with open(log, "ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "outage", "serve", "--role", role, "--port", str(port)],
            env={**os.environ, "DATABASE_URL": database_url, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )


@contextmanager
def serving(role: str, database_url: str, env: dict[str, str], log: Path) -> Iterator[str]:
    """A server of that role until the block ends; its base URL once it answers."""
    port = free_port()
    process = start_serve(role, database_url, env, log, port)
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: healthy(url), 60), log.read_text()[-3000:]
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return check()


def wait_until_quiet(url: str, quiet_s: float, seconds: float) -> bool:
    """Wait until nothing is left to go out and no event was written for `quiet_s`.

    The engine's planner keeps estimating restoration times after the last report is
    placed, so an empty outbox alone is a moment, not the end of the work."""
    deadline = time.monotonic() + seconds
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        newest = scalar(url, "SELECT coalesce(max(id), 0) FROM notification_events")
        if newest != last or scalar(url, UNDELIVERED):
            last, since = newest, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return True
        time.sleep(0.5)
    return False


def scalar(url: str, query: str, **params: object) -> int:
    database = create_engine(url)
    try:
        with database.connect() as connection:
            return int(connection.scalar(text(query), params) or 0)
    finally:
        database.dispose()


@dataclass(frozen=True)
class StormAccess:
    """What the simulated storm talks to the server with."""

    gateway_key: str
    dispatcher_token: str


def storm_ready(database_url: str, model: GridModel) -> StormAccess:
    """The grid stored, and a gateway key (channels, meters) and a dispatcher's token."""
    with session_scope(session_factory(database_url)) as session:
        save_grid(session, model)
        _, key = auth.create_api_key(
            session, name="storm-gateway", scopes=[Scope.CHANNELS, Scope.AMI]
        )
    credentials = issue_credentials(database_url, roles=[Role.DISPATCHER], scopes=[])
    return StormAccess(key, credentials.tokens[Role.DISPATCHER])


def play_storm(
    server_url: str,
    access: StormAccess,
    model: GridModel,
    options: StormOptions,
    chaos: Callable[[StormRunner], Awaitable[None]],
) -> StormState:
    """Play the storm while `chaos` does its worst; `chaos` stops the runner when done.
    Customers retry what gets no answer or a 5xx for up to a minute."""

    async def play() -> StormState:
        async with StormClient(
            server_url,
            gateway_key=access.gateway_key,
            token=access.dispatcher_token,
            retry=RetryPolicy(give_up_after_s=60.0),
        ) as client:
            runner = StormRunner(StormGrid.from_model(model), client, options, run_id="faults")
            playing = asyncio.create_task(runner.run())
            await chaos(runner)
            return await playing

    return asyncio.run(play())
