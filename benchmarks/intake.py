"""Intake over HTTP against raw single-row inserts into the same table, same concurrency;
then reports at a steady rate while the prediction engine works in another process.

The baseline is the least any intake can do: one INSERT and one COMMIT per report, from
as many connections as the HTTP run has clients. The HTTP runs do everything a real
report needs (validation, geocoding, de-duplication, idempotency, ticket) through
`outage serve --role api --workers 2` on this machine, with `benchmarks.http_load`'s
clients in a process of their own (httpx would cost the shared cores more than the
server's own work).

Figures, each goal beside its figure with whether it was met:

- `http_per_s`, `raw_insert_per_s`, `ratio` (goal `RATIO_GOAL`), `p50_ms`, `p99_ms`: as
  many reports as the server answers from `CONCURRENCY` connections, against the raw
  inserts' rate.
- `cpu_ms_per_report`: where a report's CPU went in that run: the API workers, the
  database's backends, the load generator (all on the same cores); `paced_cpu_ms_per_report`
  the same with the engine's; `raw_insert_database_cpu_ms` the database's per raw insert.
- `paced_`: `PACED_RATE` reports a second for `PACED_SECONDS` while the engine (started
  as `harness.running_engine`) takes them in: the rate achieved, p50/p99 counted from
  when each report was due (goal `P99_GOAL_MS`), errors.
"""

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psutil
from sqlalchemy import text

from benchmarks import http_load
from benchmarks.harness import bench_database, percentile, running_engine, running_server
from outage.db import get_engine

CONCURRENCY = 16
RATIO_GOAL = 0.5
PACED_RATE = 500.0
PACED_SECONDS = 30.0
PACED_CONNECTIONS = 64
"""Enough that a report never waits for a free connection unless the server is late."""
P99_GOAL_MS = 100.0

_RAW_INSERT = (
    "INSERT INTO reports (ticket, service_code, channel, status, account_given,"
    " match_method, match_confidence, candidates, substation_id)"
    " VALUES (%s, 'outage', 'api', 'received', %s, 'none', 0, '[]', 0)"
)


def _accounts(database_url: str) -> list[str]:
    with get_engine(database_url).connect() as connection:
        return list(connection.scalars(text("SELECT account FROM customers ORDER BY id")))


def _postmaster(database_url: str) -> psutil.Process:
    with get_engine(database_url).connect() as connection:
        backend = connection.scalar(text("SELECT pg_backend_pid()"))
    parent = psutil.Process(backend).parent()
    assert parent is not None
    return parent


def _cpu_s(processes: Sequence[psutil.Process]) -> float:
    """User and system CPU seconds of these processes and their descendants, those alive
    and those that ended (a database backend closed by its pool: its parent's children's
    times)."""
    total = 0.0
    for process in processes:
        for member in (process, *process.children(recursive=True)):
            try:
                times = member.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system + times.children_user + times.children_system
    return total


@contextmanager
def _cpu_spent(**parts: Sequence[psutil.Process]) -> Iterator[dict[str, float]]:
    """CPU seconds each part's processes spent within the block (filled in on exit)."""
    before = {name: _cpu_s(processes) for name, processes in parts.items()}
    spent: dict[str, float] = {}
    yield spent
    spent.update({name: _cpu_s(processes) - before[name] for name, processes in parts.items()})


def raw_insert_rate(database_url: str, total: int, concurrency: int) -> float:
    """Rows per second of single-row autocommitted INSERTs from `concurrency` threads."""
    engine = get_engine(database_url)
    per_thread = total // concurrency

    def work() -> None:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            for _ in range(per_thread):
                cursor.execute(_RAW_INSERT, (f"RAW-{uuid.uuid4().hex[:10]}", "raw"))
                connection.commit()
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return per_thread * concurrency / (time.perf_counter() - started)


def _reports(base_url: str, accounts: list[str], count: int) -> list[bytes]:
    """`count` report requests, each with its own Idempotency-Key, round the customers."""
    return [
        http_load.request(
            "POST",
            base_url,
            "/api/v1/reports",
            f'{{"account":"{accounts[i % len(accounts)]}","description":"no power",'
            f'"channel":"api"}}'.encode(),
            Content_Type="application/json",
            Idempotency_Key=uuid.uuid4().hex,
        )
        for i in range(count)
    ]


def _ms(latencies: list[float], share: float) -> float:
    return round(percentile(latencies, share) * 1000, 1)


def run(
    admin_url: str, *, quick: bool, progress: Callable[[str, int, int], None]
) -> dict[str, Any]:
    total = 200 if quick else 4000
    paced_seconds = 0.5 if quick else PACED_SECONDS
    with bench_database(admin_url) as database_url:
        accounts = _accounts(database_url)
        postgres = [_postmaster(database_url)]
        progress("intake: raw inserts", 0, 1)
        with _cpu_spent(database=postgres) as raw_spent:
            raw = raw_insert_rate(database_url, total, CONCURRENCY)
        progress("intake: raw inserts", 1, 1)
        no_limits = {
            "OUTAGE_RATE_LIMIT_PER_IP": "1000000/second",
            "OUTAGE_RATE_LIMIT_PER_PHONE": "1000000/second",
        }
        with running_server(database_url, env=no_limits) as server:
            api = [psutil.Process(server.pid)]
            progress("intake: HTTP reports", 0, 1)
            with _cpu_spent(api=api, database=postgres) as spent:
                closed = http_load.in_own_process(
                    http_load.closed_loop,
                    server.url,
                    _reports(server.url, accounts, total),
                    expected=201,
                    concurrency=CONCURRENCY,
                )
            progress("intake: HTTP reports", 1, 1)
            progress("intake: paced with engine", 0, 1)
            with running_engine(database_url) as engine:
                engine.wait_ready()
                parts = {"api": api, "database": postgres, "engine": [psutil.Process(engine.pid)]}
                with _cpu_spent(**parts) as paced_spent:
                    paced = http_load.in_own_process(
                        http_load.paced,
                        server.url,
                        _reports(server.url, accounts, round(PACED_RATE * paced_seconds)),
                        expected=201,
                        rate=PACED_RATE,
                        connections=PACED_CONNECTIONS,
                    )
            progress("intake: paced with engine", 1, 1)
    ratio = closed.per_s / raw
    paced_p99 = _ms(paced.latencies_s, 0.99)
    return {
        "http_per_s": round(closed.per_s, 1),
        "raw_insert_per_s": round(raw, 1),
        "ratio": round(ratio, 3),
        "ratio_goal": RATIO_GOAL,
        "ratio_goal_met": ratio >= RATIO_GOAL and closed.errors == 0,
        "p50_ms": _ms(closed.latencies_s, 0.5),
        "p99_ms": _ms(closed.latencies_s, 0.99),
        "requests": closed.requests,
        "errors": closed.errors,
        "concurrency": CONCURRENCY,
        "cpu_ms_per_report": _per_report(spent, closed),
        "raw_insert_database_cpu_ms": round(raw_spent["database"] * 1000 / total, 2),
        "paced_rate_per_s": PACED_RATE,
        "paced_seconds": paced_seconds,
        "paced_achieved_per_s": round(paced.per_s, 1),
        "paced_p50_ms": _ms(paced.latencies_s, 0.5),
        "paced_p99_ms": paced_p99,
        "paced_p99_goal_ms": P99_GOAL_MS,
        "paced_p99_goal_met": paced_p99 <= P99_GOAL_MS and paced.errors == 0,
        "paced_requests": paced.requests,
        "paced_errors": paced.errors,
        "paced_cpu_ms_per_report": _per_report(paced_spent, paced),
    }


def _per_report(spent: dict[str, float], load: http_load.Load) -> dict[str, float]:
    """Each part's CPU milliseconds per report answered, the load generator's too."""
    parts = {**spent, "client": load.cpu_s}
    return {name: round(s * 1000 / max(load.requests, 1), 2) for name, s in parts.items()}
