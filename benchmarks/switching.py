"""Switching on a live network: from a switch event to every process following it.

Two measurements per grid:

- End to end (the contract's figures), with a database: `FOLLOWERS` processes each hold a
  `LiveTopology`, as API workers and the engine do, and LISTEN for network changes. The
  benchmark operates a random switchable device (then puts it back, in pairs, so the
  network stays near its normal state) and commits; a follower that hears of it brings
  its copy up to date (`LiveTopology.get`). `p50_ms`, `p99_ms`: from the commit to the
  last follower's copy updated, over `E2E_SAMPLES` operations. `rss_added_mb`: the
  resident memory a process adds by holding the live network (both its views), the
  largest among the followers.
- A re-import against the running system: `REIMPORT_SAMPLES` times (`--quick`: 2), the
  grid imported again with a lateral added (a fuse, a transformer, two premises), then
  without it (the lateral retired). `reimport_p50_ms`, `reimport_max_ms`: from the
  import's commit to the last follower's copy updated (`Topology.edited` on the rows the
  import changed); `reimport_import_s`: how long the import itself took, the median.
- In process and pure, no database: `Topology.switched` on random single-device changes
  from the normal state, against orienting the whole grid again (`rebuild_s`,
  `switch_p50_ms`, `switch_p99_ms`, `speedup_p50`, `counts_p50_ms`).

Grids: the bundled sample grid, and the sample grid tiled as in `benchmarks.scale` to
`scale.CUSTOMERS` customers (`QUICK_CUSTOMERS` with `--quick`). The top-level
figures are the largest grid's; `table` has every grid.
"""

import multiprocessing
import random
import time
from collections.abc import Callable
from typing import Any

import psutil

from benchmarks import scale
from benchmarks.edits import with_lateral
from benchmarks.harness import fresh_database, percentile
from grid_topology.geojson import read_grid
from grid_topology.model import SWITCHING_KINDS, DeviceKind, GridModel
from grid_topology.topology import Network, Topology, devices_of_kinds
from outage.settings import get_settings

SAMPLES = 200
COUNT_SAMPLES = 10
SEED = 0
E2E_SAMPLES = 100
REIMPORT_SAMPLES = 4
QUICK_REIMPORT_SAMPLES = 2
"""At CI size one re-import adds a lateral and the next retires it."""
QUICK_CUSTOMERS = 10_000
"""The tiled grid's size with `--quick`: a bulk load and a follower at CI cost."""
DATABASE = "outage_bench_switching"

Progress = Callable[[str, int, int], None]


def measure(
    name: str,
    network: Network,
    *,
    samples: int = SAMPLES,
    seed: int = SEED,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The figures of one grid (see the module's docstring)."""
    started = time.perf_counter()
    topology = Topology(network)
    rebuild_s = time.perf_counter() - started
    topology.customer_counts()
    switchable = sorted(devices_of_kinds(network.links, SWITCHING_KINDS))
    rng = random.Random(seed)
    switch_s: list[float] = []
    counts_s: list[float] = []
    for i in range(samples):
        if progress is not None:
            progress(f"switching: {name}", i, samples)
        asset_ref = rng.choice(switchable)
        started = time.perf_counter()
        switched = topology.switched({asset_ref: not network.links[asset_ref].is_open})
        switch_s.append(time.perf_counter() - started)
        if i < COUNT_SAMPLES:
            started = time.perf_counter()
            switched.customer_counts()
            counts_s.append(time.perf_counter() - started)
    if progress is not None:
        progress(f"switching: {name}", samples, samples)
    p50 = percentile(switch_s, 0.5)
    return {
        "grid": name,
        "devices": len(network.links),
        "customers": sum(len(accounts) for accounts in network.accounts_at.values()),
        "rebuild_s": round(rebuild_s, 2),
        "switch_p50_ms": round(p50 * 1000, 2),
        "switch_p99_ms": round(percentile(switch_s, 0.99) * 1000, 2),
        "speedup_p50": round(rebuild_s / p50),
        "counts_p50_ms": round(percentile(counts_s, 0.5) * 1000, 1),
    }


def follow(url: str, ready: Any, heard: Any, stop: Any) -> None:
    """A follower process: hold a live network, and bring it up to date on every change."""
    import select

    from outage.db import get_engine, session_factory
    from outage.grid.live import LiveTopology
    from outage.grid.switching import CHANNEL

    process = psutil.Process()
    sessions = session_factory(url)
    before = process.memory_info().rss
    live = LiveTopology()
    with sessions() as session:
        live.get(session)
        live.energized(session)
    ready.put((process.memory_info().rss - before) / 2**20)
    connection: Any = get_engine(url).raw_connection()
    listener: Any = connection.driver_connection
    listener.autocommit = True
    listener.cursor().execute(f"LISTEN {CHANNEL}")
    while not stop.is_set():
        if not select.select([listener], [], [], 0.2)[0]:
            continue
        listener.poll()
        listener.notifies.clear()
        with sessions() as session:
            live.get(session)
        held = live.version
        assert held is not None
        heard.put((held.switch, held.structure, time.monotonic()))
    connection.close()


def _wait_for(heard: Any, followers: int, *, switch: int = 0, structure: int = 0) -> float:
    """When the last follower told of a copy at these versions or later."""
    waiting, last = followers, 0.0
    while waiting:
        held_switch, held_structure, at = heard.get(timeout=600)
        if held_switch >= switch and held_structure >= structure:
            waiting -= 1
            last = max(last, at)
    return last


def _reimports(
    url: str,
    name: str,
    model: GridModel,
    heard: Any,
    followers: int,
    progress: Progress,
    *,
    samples: int,
) -> dict[str, Any]:
    """Re-import the grid with a lateral added, then without it (see the module's docstring)."""
    from outage.db import session_factory, session_scope
    from outage.grid.service import save_grid
    from outage.grid.switching import versions

    tap = next(d.from_node for d in model.devices if d.kind is DeviceKind.TRANSFORMER)
    imports = [with_lateral(model, tap, "bench lateral"), model]
    sessions = session_factory(url)
    latencies: list[float] = []
    durations: list[float] = []
    for i in range(samples):
        progress(f"switching: re-import {name}", i, samples)
        started = time.perf_counter()
        with session_scope(sessions) as session:
            save_grid(session, imports[i % 2])
            structure = versions(session).structure
        committed = time.monotonic()
        durations.append(time.perf_counter() - started)
        last = _wait_for(heard, followers, structure=structure)
        latencies.append(max(0.0, last - committed))
    progress(f"switching: re-import {name}", samples, samples)
    return {
        "reimport_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "reimport_max_ms": round(max(latencies) * 1000, 1),
        "reimport_import_s": round(percentile(durations, 0.5), 2),
    }


def follow_latency(
    url: str,
    name: str,
    model: GridModel,
    *,
    followers: int,
    samples: int,
    reimports: int,
    progress: Progress,
) -> dict[str, Any]:
    """End-to-end figures on the grid in the database at `url` (see the module's docstring)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from outage.db import session_factory, session_scope
    from outage.grid import switching
    from outage.grid.enums import SwitchSource
    from outage.grid.models import Device

    context = multiprocessing.get_context("spawn")
    ready, heard, stop = context.Queue(), context.Queue(), context.Event()
    processes = [
        context.Process(target=follow, args=(url, ready, heard, stop)) for _ in range(followers)
    ]
    for process in processes:
        process.start()
    try:
        added = [ready.get(timeout=3600) for _ in processes]
        sessions = session_factory(url)
        with session_scope(sessions) as session:
            rows = session.execute(
                select(Device.asset_ref, Device.is_open).where(Device.kind.in_(SWITCHING_KINDS))
            )
            devices = {asset_ref: is_open for asset_ref, is_open in rows}
        rng = random.Random(SEED)
        refs = sorted(devices)
        start = datetime.now(UTC)
        latencies: list[float] = []
        asset_ref = refs[0]
        for i in range(samples):
            progress(f"switching: follow {name}", i, samples)
            if i % 2 == 0:
                asset_ref = rng.choice(refs)
            devices[asset_ref] = not devices[asset_ref]
            with session_scope(sessions) as session:
                outcome = switching.operate(
                    session,
                    asset_ref,
                    is_open=devices[asset_ref],
                    occurred_at=start + timedelta(milliseconds=i),
                    source=SwitchSource.DISPATCHER,
                    actor="benchmark",
                )
            committed = time.monotonic()
            last = _wait_for(heard, followers, switch=outcome.version)
            latencies.append(max(0.0, last - committed))
        progress(f"switching: follow {name}", samples, samples)
        structural = _reimports(url, name, model, heard, followers, progress, samples=reimports)
    finally:
        stop.set()
        for process in processes:
            process.join(timeout=60)
    return {
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "rss_added_mb": round(max(added), 1),
        "followers": followers,
        **structural,
    }


def _grid_figures(
    admin_url: str,
    name: str,
    model: GridModel,
    *,
    bulk: bool,
    followers: int,
    samples: int,
    reimports: int,
    progress: Progress,
) -> dict[str, Any]:
    from outage.db import session_factory, session_scope
    from outage.grid.bulk import bulk_save_grid
    from outage.grid.service import save_grid

    pure = measure(name, Network.from_model(model), progress=progress)
    with fresh_database(admin_url, DATABASE) as url:
        progress(f"switching: import {name}", 0, 1)
        with session_scope(session_factory(url)) as session:
            (bulk_save_grid if bulk else save_grid)(session, model)
        progress(f"switching: import {name}", 1, 1)
        e2e = follow_latency(
            url,
            name,
            model,
            followers=followers,
            samples=samples,
            reimports=reimports,
            progress=progress,
        )
    return {**pure, **e2e}


def run(
    admin_url: str,
    *,
    quick: bool,
    progress: Progress,
    customers: int | None = None,
    samples: int = E2E_SAMPLES,
) -> dict[str, Any]:
    base = read_grid(get_settings().sample_grid)
    reimports = QUICK_REIMPORT_SAMPLES if quick else REIMPORT_SAMPLES
    table = [
        _grid_figures(
            admin_url,
            "sample grid",
            base,
            bulk=False,
            followers=2,
            samples=samples,
            reimports=reimports,
            progress=progress,
        )
    ]
    wanted = customers or (QUICK_CUSTOMERS if quick else scale.CUSTOMERS)
    copies = max(1, round(wanted / len(base.premises)))
    if copies > 1:
        name = f"sample grid tiled x{copies}"
        table.append(
            _grid_figures(
                admin_url,
                name,
                scale.tiled(base, copies),
                bulk=True,
                followers=1,
                samples=samples,
                reimports=reimports,
                progress=progress,
            )
        )
    return {**table[-1], "table": table}
