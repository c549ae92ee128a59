"""Intake over HTTP against raw single-row inserts into the same table, same concurrency.

The baseline is the least any intake can do: one INSERT and one COMMIT per report, from
as many connections as the HTTP run has clients. The HTTP run does everything a real
report needs (validation, geocoding, de-duplication, idempotency, ticket) through
`outage serve` on this machine.
"""

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text

from benchmarks.harness import bench_database, percentile, running_server
from outage.db import get_engine

CONCURRENCY = 16

_RAW_INSERT = (
    "INSERT INTO reports (ticket, service_code, channel, status, account_given,"
    " match_method, match_confidence, candidates)"
    " VALUES (%s, 'outage', 'api', 'received', %s, 'none', 0, '[]')"
)


def _accounts(database_url: str) -> list[str]:
    with get_engine(database_url).connect() as connection:
        return list(connection.scalars(text("SELECT account FROM customers ORDER BY id")))


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


async def _post_reports(
    base_url: str,
    bodies: list[dict[str, Any]],
    concurrency: int,
    progress: Callable[[int], None],
) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    limits = httpx.Limits(max_connections=concurrency)

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while not queue.empty():
            body = queue.get_nowait()
            started = time.perf_counter()
            response = await client.post(
                "/api/v1/reports", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
            )
            latencies.append(time.perf_counter() - started)
            errors += response.status_code != 201
            progress(1)

    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(bodies) / elapsed, latencies, errors


def run(
    admin_url: str, *, quick: bool, progress: Callable[[str, int, int], None]
) -> dict[str, Any]:
    total = 400 if quick else 4000
    with bench_database(admin_url) as database_url:
        accounts = _accounts(database_url)
        bodies = [
            {"account": accounts[i % len(accounts)], "description": "no power", "channel": "api"}
            for i in range(total)
        ]
        progress("intake: raw inserts", 0, 1)
        raw = raw_insert_rate(database_url, total, CONCURRENCY)
        progress("intake: raw inserts", 1, 1)
        no_limits = {
            "OUTAGE_RATE_LIMIT_PER_IP": "1000000/second",
            "OUTAGE_RATE_LIMIT_PER_PHONE": "1000000/second",
        }
        with running_server(database_url, env=no_limits) as server:
            done = 0

            def tick(n: int) -> None:
                nonlocal done
                done += n
                if done % 50 == 0 or done == total:
                    progress("intake: HTTP reports", done, total)

            http, latencies, errors = asyncio.run(
                _post_reports(server.url, bodies, CONCURRENCY, tick)
            )
    return {
        "http_per_s": round(http, 1),
        "raw_insert_per_s": round(raw, 1),
        "ratio": round(http / raw, 3),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "requests": total,
        "errors": errors,
        "concurrency": CONCURRENCY,
    }
