"""Meter-event floods over HTTP against COPY of the same rows into the same table.

A storm's last gasps come by the ten thousand: the head-end posts batches of 10,000
events to `POST /api/v1/ami/events`, which checks every event, looks up its meter and
stores it once. The app runs in this process, every middleware and the JSON parsing
included, so the ratio is of the same machine at the same moment, without a server to
start. The baseline is the least any bulk intake can do: the same number of rows, already
paired with their premises, COPYed into `meter_events` from one connection. Each batch is
then posted again, as a head-end's retry: all of it must come back as duplicates.

Then the storm, end to end (`benchmarks.ami_storm`): 100,000 last gasps from a head-end
to the engine's incidents, its figures named `storm_`.
"""

import io
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from benchmarks import ami_storm
from benchmarks.harness import bench_database, head_end_key, percentile
from outage.app import create_app
from outage.db import get_engine

BATCH = 10_000
"""Events a request carries: the most the route takes."""


def _meters(database_url: str) -> list[tuple[str, str]]:
    """Each meter with the columns a stored event of it carries besides its own: its
    premise and the substation key (as tab-separated COPY text)."""
    with get_engine(database_url).connect() as connection:
        rows = connection.execute(
            text(
                "SELECT p.meter_id, p.id || E'\\t' || coalesce(f.substation_id, 0)"
                " FROM premises p LEFT JOIN feeders f ON f.id = p.feeder_id"
                " WHERE p.meter_id IS NOT NULL ORDER BY p.id"
            )
        )
        return [(meter_id, placed) for meter_id, placed in rows]


def _events(meters: list[str], count: int, since: datetime) -> list[dict[str, str]]:
    """`count` distinct events: each meter a last gasp then a power restored, a second apart,
    then again a minute later, and so on."""
    return [
        {
            "meter_id": meters[(i // 2) % len(meters)],
            "event": "last_gasp" if i % 2 == 0 else "power_restored",
            "occurred_at": (
                since + timedelta(minutes=i // (2 * len(meters)), seconds=i % 2)
            ).isoformat(),
        }
        for i in range(count)
    ]


def copy_rate(database_url: str, meters: list[tuple[str, str]], count: int) -> float:
    """Rows per second COPYed into `meter_events`, premises known beforehand, one commit."""
    placed = dict(meters)
    since = datetime.now(UTC) - timedelta(hours=100)
    rows = "".join(
        f"{e['meter_id']}\t{placed[e['meter_id']]}\t{e['event']}\t{e['occurred_at']}\n"
        for e in _events([m for m, _ in meters], count, since)
    )
    connection = get_engine(database_url).raw_connection()
    try:
        cursor = connection.cursor()
        started = time.perf_counter()
        cursor.copy_expert(
            "COPY meter_events (meter_id, premise_id, substation_id, kind, occurred_at) FROM STDIN",
            io.StringIO(rows),
        )
        connection.commit()
        return count / (time.perf_counter() - started)
    finally:
        connection.close()


def run(
    admin_url: str, *, quick: bool, progress: Callable[[str, int, int], None]
) -> dict[str, Any]:
    """The flood against COPY, then the storm end to end (`benchmarks.ami_storm`)."""
    return {
        **flood(admin_url, quick=quick, progress=progress),
        **ami_storm.run(admin_url, quick=quick, progress=progress),
    }


def flood(
    admin_url: str, *, quick: bool, progress: Callable[[str, int, int], None]
) -> dict[str, Any]:
    batches = 2 if quick else 10
    total = batches * BATCH
    with bench_database(admin_url) as database_url:
        meters = _meters(database_url)
        progress("ami: raw COPY", 0, 1)
        raw = copy_rate(database_url, meters, total)
        progress("ami: raw COPY", 1, 1)
        since = datetime.now(UTC) - timedelta(hours=1)
        events = _events([m for m, _ in meters], total, since)
        bodies = [{"events": events[i : i + BATCH]} for i in range(0, total, BATCH)]
        headers = {"X-API-Key": head_end_key(database_url)}
        latencies: list[float] = []
        accepted = duplicates = errors = 0
        with TestClient(create_app(database_url), headers=headers) as client:
            started = time.perf_counter()
            for done, body in enumerate(bodies, start=1):
                sent = time.perf_counter()
                response = client.post("/api/v1/ami/events", json=body)
                latencies.append(time.perf_counter() - sent)
                errors += response.status_code != 200
                accepted += response.json().get("accepted", 0) if response.is_success else 0
                progress("ami: HTTP batches", done, batches)
            elapsed = time.perf_counter() - started
            for body in bodies:
                response = client.post("/api/v1/ami/events", json=body)
                errors += response.status_code != 200
                duplicates += response.json().get("duplicates", 0) if response.is_success else 0
    http = accepted / elapsed
    return {
        "http_events_per_s": round(http, 1),
        "raw_copy_events_per_s": round(raw, 1),
        "ratio": round(http / raw, 3),
        "batch_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "batch_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "batch_size": BATCH,
        "events": total,
        "accepted": accepted,
        "duplicates_on_retry": duplicates,
        "errors": errors,
    }
