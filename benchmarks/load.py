"""Many customers at once: concurrent reporters against a full server for a bounded time.

`outage serve --role all` (two API workers and the prediction engine, as in production on
one machine) runs in a child process; this process plays `REPORTERS` customers on loopback,
each sending its next message as soon as the last was answered, for `DURATION_S` seconds:
web reports by account and by GPS, SMS and IVR webhooks, and status checks of earlier
tickets, in the shares of a storm (`MIX`). No retries: every failure counts.

Figures: requests, requests per second, latency p50/p99 (ms), errors (non-2xx or no
answer) and their share; then how long the engine took after the load to attach every
placed report to an incident (`engine_catch_up_s`).
"""

import asyncio
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import text

from benchmarks.harness import bench_database, percentile, running_server
from outage.auth import service as auth
from outage.auth.enums import Scope
from outage.db import get_engine, session_factory, session_scope

REPORTERS = 64
QUICK_REPORTERS = 32
DURATION_S = 30.0
QUICK_DURATION_S = 8.0
CATCH_UP_S = 60.0
"""How long the engine may take, after the load, to put every report on an incident."""
MIX: tuple[tuple[str, float], ...] = (
    ("web_account", 0.35),
    ("web_gps", 0.15),
    ("sms", 0.25),
    ("ivr", 0.15),
    ("status", 0.1),
)
"""Kinds of message and their shares."""


@dataclass(frozen=True)
class Customer:
    account: str
    phone: str
    lat: float
    lon: float


def _customers(database_url: str) -> list[Customer]:
    with get_engine(database_url).connect() as connection:
        rows = connection.execute(
            text(
                "SELECT c.account, c.phone, ST_Y(p.geom), ST_X(p.geom) FROM customers c"
                " JOIN premises p ON p.id = c.premise_id ORDER BY c.id"
            )
        )
        return [Customer(*row) for row in rows]


def _gateway_key(database_url: str) -> str:
    with session_scope(session_factory(database_url)) as session:
        _, key = auth.create_api_key(
            session, name=f"bench-load-{uuid.uuid4().hex[:8]}", scopes=[Scope.CHANNELS]
        )
    return key


def _request(
    kind: str, customer: Customer, key: str, tickets: list[tuple[str, str]], rng: random.Random
) -> tuple[str, str, dict[str, Any] | None, dict[str, str]]:
    """(method, path, JSON body, headers) of one message."""
    token = uuid.uuid4().hex
    if kind == "status" and tickets:
        ticket, phone = rng.choice(tickets)
        return "GET", f"/api/v1/reports/{ticket}?phone_last4={phone[-4:]}", None, {}
    if kind == "sms":
        body = {"from": customer.phone, "text": f"MAT DIEN {customer.account}", "id": token}
        return "POST", "/api/v1/channels/sms", body, {"X-API-Key": key}
    if kind == "ivr":
        body = {"call_id": token, "caller": customer.phone, "digits": "1"}
        return "POST", "/api/v1/channels/ivr", body, {"X-API-Key": key}
    report: dict[str, Any] = {"channel": "web", "description": "no power"}
    if kind == "web_gps":
        report.update(lat=customer.lat, lon=customer.lon)
    else:
        report.update(account=customer.account, phone=customer.phone)
    return "POST", "/api/v1/reports", report, {"Idempotency-Key": token}


async def _load(
    base_url: str,
    customers: list[Customer],
    key: str,
    reporters: int,
    duration_s: float,
    progress: Callable[[int], None],
) -> tuple[list[float], int, int, float]:
    latencies: list[float] = []
    errors = 0
    """Requests with no answer or a non-2xx answer."""
    unanswered = 0
    tickets: list[tuple[str, str]] = []
    kinds = [kind for kind, _ in MIX]
    weights = [share for _, share in MIX]
    deadline = time.monotonic() + duration_s

    async def reporter(client: httpx.AsyncClient, rng: random.Random) -> None:
        nonlocal errors, unanswered
        while time.monotonic() < deadline:
            customer = rng.choice(customers)
            kind = rng.choices(kinds, weights)[0]
            method, path, body, headers = _request(kind, customer, key, tickets, rng)
            started = time.perf_counter()
            try:
                response = await client.request(method, path, json=body, headers=headers)
            except httpx.HTTPError:
                errors += 1
                unanswered += 1
                continue
            latencies.append(time.perf_counter() - started)
            if not response.is_success:
                errors += 1
            elif kind not in ("web_gps", "status") and (ticket := response.json().get("ticket")):
                tickets.append((ticket, customer.phone))

    limits = httpx.Limits(max_connections=reporters)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        ticker = asyncio.create_task(_tick(deadline, duration_s, progress))
        started = time.perf_counter()
        await asyncio.gather(*(reporter(client, random.Random(i)) for i in range(reporters)))
        elapsed = time.perf_counter() - started
        ticker.cancel()
    return latencies, errors, unanswered, elapsed


async def _tick(deadline: float, duration_s: float, progress: Callable[[int], None]) -> None:
    while True:
        progress(int(duration_s - max(0.0, deadline - time.monotonic())))
        await asyncio.sleep(1)


def _attached(database_url: str) -> tuple[int, int]:
    """(reports placed on the network, of them attached to an incident)."""
    with get_engine(database_url).connect() as connection:
        placed, attached = connection.execute(
            text(
                "SELECT count(*), count(incident_id) FROM reports"
                " WHERE status IN ('received', 'duplicate')"
            )
        ).one()
    return int(placed), int(attached)


def _catch_up(database_url: str) -> tuple[float, int, int]:
    """Wait (at most `CATCH_UP_S`) for the engine to attach every placed report to an
    incident; (seconds it took, reports placed, reports attached)."""
    started = time.monotonic()
    while True:
        placed, attached = _attached(database_url)
        waited = time.monotonic() - started
        if attached == placed or waited > CATCH_UP_S:
            return waited, placed, attached
        time.sleep(0.2)


def run(
    admin_url: str,
    *,
    quick: bool,
    progress: Callable[[str, int, int], None],
    reporters: int | None = None,
    duration_s: float | None = None,
) -> dict[str, Any]:
    reporters = reporters or (QUICK_REPORTERS if quick else REPORTERS)
    duration_s = duration_s or (QUICK_DURATION_S if quick else DURATION_S)
    stage = f"load: {reporters} reporters"
    no_limits = {
        "OUTAGE_RATE_LIMIT_PER_IP": "1000000/second",
        "OUTAGE_RATE_LIMIT_PER_PHONE": "1000000/second",
        "OUTAGE_SMTP_RECEIVER_PORT": "0",
    }
    with bench_database(admin_url) as database_url:
        customers = _customers(database_url)
        key = _gateway_key(database_url)
        with running_server(database_url, role="all", env=no_limits) as server:
            latencies, errors, unanswered, elapsed = asyncio.run(
                _load(
                    server.url,
                    customers,
                    key,
                    reporters,
                    duration_s,
                    lambda done: progress(stage, done, int(duration_s)),
                )
            )
            progress(stage, int(duration_s), int(duration_s))
            catch_up_s, placed, attached = _catch_up(database_url)
    requests = len(latencies) + unanswered
    return {
        "reporters": reporters,
        "duration_s": round(elapsed, 1),
        "requests": requests,
        "per_s": round(requests / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "errors": errors,
        "unanswered": unanswered,
        "error_rate": round(errors / requests, 4) if requests else 0.0,
        "reports_placed": placed,
        "reports_on_incidents": attached,
        "engine_catch_up_s": round(catch_up_s, 1),
    }
