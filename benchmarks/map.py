"""The public outage map under a storm's viewers: requests per second of its GeoJSON.

`outage serve` (API role, two workers) on the sample grid with outages open on its
busiest transformers; after a warm-up, a second process keeps many concurrent keep-alive
clients asking for `/api/v1/map/public.geojson` for a fixed time. The answers come from
the in-memory cache (`maps.cache`), so the figure is the web stack's, not the database's:
the database is read once per time-to-live per worker however many people look.

The clients are `benchmarks.http_load`'s, in a process of their own: httpx's pure-Python
stack tops out at a few hundred requests a second per process on this kind of machine,
and would measure itself rather than the server.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from benchmarks import http_load
from benchmarks.harness import bench_database, percentile, running_server
from grid_topology.model import DeviceKind
from grid_topology.topology import Topology
from outage.db import session_factory, session_scope
from outage.grid.models import Device
from outage.grid.service import load_network
from outage.incidents.changes import open_incident

PATH = "/api/v1/map/public.geojson"
CONCURRENCY = 32
OUTAGES = 12


def _open_outages(database_url: str, count: int) -> int:
    """Outages on the transformers with the most customers, as a storm leaves them."""
    with session_scope(session_factory(database_url)) as session:
        counts = Topology(load_network(session)).customer_counts()
        transformers = session.scalars(
            select(Device.asset_ref).where(Device.kind == DeviceKind.TRANSFORMER)
        )
        busiest = sorted(transformers, key=lambda ref: (-counts.get(ref, 0), ref))[:count]
        for asset_ref in busiest:
            open_incident(
                session,
                device_asset_ref=asset_ref,
                confidence=0.8,
                customers_affected=counts.get(asset_ref, 0),
                started_at=datetime.now(UTC) - timedelta(minutes=30),
                reason="map benchmark",
            )
    return len(busiest)


def run(
    admin_url: str, *, quick: bool, progress: Callable[[str, int, int], None]
) -> dict[str, Any]:
    seconds = 5.0 if quick else 20.0
    with bench_database(admin_url) as database_url:
        opened = _open_outages(database_url, OUTAGES)
        with running_server(database_url) as server:
            progress("map: warm-up", 0, 1)
            for _ in range(20):  # both workers fill their caches
                httpx.get(f"{server.url}{PATH}", timeout=30).raise_for_status()
            size = len(httpx.get(f"{server.url}{PATH}", timeout=30).content)
            progress("map: warm-up", 1, 1)
            progress("map: viewers", 0, 1)
            ask = http_load.request("GET", server.url, PATH)
            measured = http_load.in_own_process(
                http_load.closed_loop,
                server.url,
                [ask],
                expected=200,
                concurrency=CONCURRENCY,
                seconds=seconds,
            )
            progress("map: viewers", 1, 1)
    return {
        "requests_per_s": round(measured.per_s, 1),
        "p99_ms": round(percentile(measured.latencies_s, 0.99) * 1000, 1),
        "p50_ms": round(percentile(measured.latencies_s, 0.5) * 1000, 1),
        "requests": measured.requests,
        "errors": measured.errors,
        "concurrency": CONCURRENCY,
        "seconds": round(measured.seconds, 1),
        "outages": opened,
        "body_bytes": size,
    }
