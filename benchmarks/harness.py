"""What every benchmark needs: a database of its own, a real server, and percentiles."""

import logging
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from grid_topology.geojson import read_grid
from outage.auth import service as auth
from outage.auth.enums import Scope
from outage.db import create_database, drop_database, get_engine, session_factory, session_scope
from outage.grid.service import save_grid
from outage.locks import LockSpace
from outage.settings import get_settings

BENCH_DATABASE = "outage_bench"


class DatabaseInUse(RuntimeError):
    """Another benchmark run on the same cluster is using the database."""


@contextmanager
def fresh_database(admin_url: str, name: str) -> Iterator[str]:
    """A new, migrated database `name`, dropped afterwards, held for this run alone.

    A run creating the database drops any a run that died left behind; held, a second run
    at the same time stops with DatabaseInUse instead of dropping the first's database
    from under it. The lock is the session's, on a connection outside any transaction
    for the whole run."""
    claim = create_engine(admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with claim.connect() as connection:
            held = connection.execute(
                text("SELECT pg_try_advisory_lock(:space, hashtext(:name))"),
                {"space": int(LockSpace.BENCHMARK_DATABASE), "name": name},
            ).scalar_one()
            if not held:
                raise DatabaseInUse(f"another benchmark run is using the database {name}")
            url = create_database(admin_url, name)
            try:
                yield url
            finally:
                get_engine(url).dispose()
                drop_database(admin_url, name)
    finally:
        claim.dispose()


@contextmanager
def bench_database(admin_url: str) -> Iterator[str]:
    """A fresh database holding the sample grid, dropped afterwards."""
    with fresh_database(admin_url, BENCH_DATABASE) as url:
        with session_scope(session_factory(url)) as session:
            save_grid(session, read_grid(get_settings().sample_grid))
        yield url


def head_end_key(database_url: str) -> str:
    """A new API key for a head-end posting meter events."""
    with session_scope(session_factory(database_url)) as session:
        _, key = auth.create_api_key(
            session, name=f"bench-ami-{uuid.uuid4().hex[:8]}", scopes=[Scope.AMI]
        )
    return key


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    url: str
    pid: int
    """The `serve` process (with one worker, the one that answers)."""


@contextmanager
def running_server(
    database_url: str, *, workers: int = 2, role: str = "api", env: dict[str, str] | None = None
) -> Iterator[Server]:
    """`outage serve` in a child process, as in production, stopped on exit.

    The API role by default: in production the engine runs in a process of its own.
    """
    port = free_port()
    environment = {**os.environ, "DATABASE_URL": database_url, **(env or {})}
    # its log goes to a file: a pipe nobody reads fills up in a long run and stops the server
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "outage", "serve", "--role", role),
                *("--port", str(port), "--workers", str(workers)),
            ],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, process, log)
            yield Server(url=url, pid=process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


ENGINE_START_TIMEOUT_S = 600.0


def _engine_main(url: str, ready: Any, environment: dict[str, str] | None) -> None:
    """The engine in a fresh process; `ready` is set once it holds the network. With an
    `environment`, the whole `outage serve --role engine` in it. Runs until terminated."""
    logging.basicConfig()  # the engine's warnings and failures on stderr
    set_when_engine_ready(ready)
    if environment is not None:
        os.environ.update({**environment, "DATABASE_URL": url})
        from outage.cli.serve import Role, serve

        serve(role=Role.engine)
        return
    import outage.models  # noqa: F401  (every table, as the serve command has them)
    from outage.prediction import engine

    window = get_settings().incident_window_hours
    engine.run_forever(url, window=window, stop=threading.Event())


@dataclass(frozen=True)
class EngineProcess:
    pid: int
    ready: Any
    """Set once the engine holds the network."""

    def wait_ready(self) -> None:
        if not self.ready.wait(ENGINE_START_TIMEOUT_S):
            raise RuntimeError("the engine did not start")


@contextmanager
def running_engine(
    database_url: str, *, role_environment: dict[str, str] | None = None
) -> Iterator[EngineProcess]:
    """The prediction engine in a process of its own, as `outage serve --role engine`
    runs it but without the role's notification workers and jobs (they would fan out
    messages and measure something else), or with them, in `role_environment`, when given;
    stopped on exit. It loads the network meanwhile: wait for `wait_ready` before
    measuring."""
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    process = context.Process(target=_engine_main, args=(database_url, ready, role_environment))
    process.start()
    assert process.pid is not None
    try:
        yield EngineProcess(process.pid, ready)
    finally:
        process.terminate()
        process.join(timeout=30)


def _wait_healthy(
    url: str, process: subprocess.Popen[bytes], log: IO[bytes], timeout_s: float = 600
) -> None:
    """Wait for the server's first worker to answer: a worker loads the network first,
    minutes on a million customers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            stderr = log.read().decode(errors="replace")
            raise RuntimeError(f"server exited with {process.returncode}: {stderr[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server at {url} not healthy after {timeout_s} s")


def set_when_engine_ready(ready: Any) -> None:
    """Set the event `ready` once this process's prediction engine logs that it holds the
    network (its INFO line), for a benchmark that starts it in a process of its own."""
    from outage.prediction import engine

    class Ready(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("engine ready"):
                ready.set()

    logger = logging.getLogger(engine.__name__)
    logger.setLevel(logging.INFO)
    logger.addHandler(Ready())


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile; `share` in [0, 1]."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]
