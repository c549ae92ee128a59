"""A national utility's storm on one machine: every channel, the meters, the crews, the map.

The utility is the sample grid tiled to `CUSTOMERS` customers (`scale.tiled`), bulk-loaded,
with `CREWS` crews on shift. The service runs as in production: `outage serve --role api`
(two workers) answers HTTP, and `outage serve --role engine` in a process of its own runs
the prediction engine, the notification workers and the periodic jobs (the dispatch planner
among them), sending SMS to a local HTTP sink. Both have loaded the network before the
storm starts.

The storm is played as `outage simulate storm` plays one, through the public API: whole
feeders trip, in a seeded order within half an hour of storm time, until `OUT_SHARE` of the
customers are out; `CALL_RATE` of them report after log-normal delays through the web
form (with their account or a phone's GPS fix), SMS and the IVR, with noise calls from
customers who are not out; `METER_SHARE` of their meters send a last gasp; crews follow the
dispatch plan and restore. Storm time runs `SPEED` times faster than the wall clock, and the
server runs on the same compressed clock (`outage.clock`), so its waits (the first notice's)
shrink with it. Meanwhile a viewer process keeps reading the public map's GeoJSON.

Figures:

- `customers`, `out` (customers of the faulted feeders), `reports` (sent by customers),
  `last_gasps` (sent by the head-end).
- `report_p99_ms`: a report's request as the customer waited for it, retries included.
- `report_to_incident_p99_s`: from a report's acceptance to the engine linking it to an
  incident, in wall seconds.
- `all_told_s`: wall seconds from the storm's start until every customer out has been sent
  a message about their outage (None when that takes longer than `TOLD_TIMEOUT_S`;
  `told_share` says how many were).
- `map_p99_ms`: the public map's GeoJSON while it all happens.
- `rss_mb` (each process, the most seen) and `max_rss_mb`.
- `errors`: reports and meter batches refused or lost, map answers other than 200, and
  messages dead-lettered; 0 is the goal. `refused_by` counts the refused by request and
  answer (`"PATCH /api/v1/incidents/{id} 409"`), so a refusal can be told from a crew's
  action on an incident that changed meanwhile.
"""

import asyncio
import multiprocessing
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import psutil
from sqlalchemy import text

from benchmarks import scale
from benchmarks.harness import fresh_database, percentile, running_engine, running_server
from grid_topology.geojson import read_grid
from outage.cli.demo import DemoAccess, stage_access, staged_environment
from outage.clock import Clock
from outage.db import get_engine, session_factory, session_scope
from outage.grid.bulk import bulk_save_grid
from outage.notifications.sink import running_sink
from outage.settings import get_settings
from outage.simulation.client import StormClient
from outage.simulation.runner import StormOptions, StormRunner, StormState
from outage.simulation.storm import StormGrid

CUSTOMERS = 1_000_000
QUICK_CUSTOMERS = 8_000
OUT_SHARE = 0.25
CALL_RATE = 0.2
"""With a quarter out: 50,000 reports from a million customers."""
METER_SHARE = 0.4
"""With a quarter out: 100,000 last gasps from a million customers."""
SPEED = 20.0
"""Storm seconds per wall second: its first hour in three minutes."""
QUICK_SPEED = 120.0
CREWS = 40
QUICK_CREWS = 1
MAP_VIEWERS = 4
"""Viewers reading the public map at once."""
MAP_PER_S = 20.0
"""Public map reads a second between them: the crowd's, past the CDN's cache."""
TOLD_TIMEOUT_S = 900.0
SAMPLE_S = 1.0
SEED = 0
DATABASE = "outage_bench_storm"

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class MapLoad:
    requests: int
    errors: int
    latencies_s: list[float]


def _view_map(base_url: str, stop: Any, results: Any) -> None:
    """`MAP_VIEWERS` viewers reading the public map, `MAP_PER_S` a second between them,
    until `stop` is set."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def viewer() -> None:
        nonlocal errors
        every = MAP_VIEWERS / MAP_PER_S
        due = time.perf_counter()
        with httpx.Client(base_url=base_url, timeout=30) as client:
            while not stop.wait(max(0.0, due - time.perf_counter())):
                due += every
                started = time.perf_counter()
                try:
                    ok = client.get("/api/v1/map/public.geojson").status_code == 200
                except httpx.HTTPError:
                    ok = False
                with lock:
                    latencies.append(time.perf_counter() - started)
                    errors += not ok

    threads = [threading.Thread(target=viewer) for _ in range(MAP_VIEWERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(MapLoad(len(latencies), errors, latencies))


class PeakMemory:
    """The most resident memory seen of each process of the service."""

    def __init__(self, roots: dict[str, int]) -> None:
        self.roots = {name: psutil.Process(pid) for name, pid in roots.items()}
        self.most: dict[str, float] = {}

    def sample(self) -> None:
        for name, root in self.roots.items():
            try:
                family = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            for i, process in enumerate(family):
                label = name if i == 0 else f"{name}_child_{i}"
                try:
                    mb = process.memory_info().rss / 2**20
                except psutil.NoSuchProcess:
                    continue
                self.most[label] = max(self.most.get(label, 0.0), round(mb, 1))


def tripped_feeders(grid: StormGrid, rng: random.Random, customers_out: int) -> tuple[str, ...]:
    """Feeder heads in a seeded order until `customers_out` are below them."""
    heads = list(grid.feeder_heads)
    rng.shuffle(heads)
    chosen: list[str] = []
    out = 0
    for head in heads:
        if out >= customers_out:
            break
        chosen.append(head)
        out += len(grid.topology.downstream(head).accounts)
    return tuple(chosen)


def _affected(url: str, grid: StormGrid, feeders: tuple[str, ...]) -> int:
    """Note the customers of the faulted feeders in the benchmark's own table."""
    accounts = sorted({a for head in feeders for a in grid.topology.downstream(head).accounts})
    with session_scope(session_factory(url)) as session:
        session.execute(text("CREATE UNLOGGED TABLE bench_affected (customer_id bigint)"))
        session.execute(
            text(
                "INSERT INTO bench_affected SELECT id FROM customers WHERE account = ANY(:accounts)"
            ),
            {"accounts": accounts},
        )
    return len(accounts)


def _told(url: str) -> int:
    with session_factory(url)() as session:
        return int(
            session.execute(
                text(
                    "SELECT count(DISTINCT n.customer_id) FROM notifications n"
                    " JOIN bench_affected a ON a.customer_id = n.customer_id"
                    " WHERE n.status = 'sent' AND n.incident_id IS NOT NULL"
                )
            ).scalar_one()
        )


def _report_to_incident_p99_s(url: str, speed: float) -> tuple[float | None, int]:
    """p99 of acceptance to the first link to an incident in wall seconds (the server dates
    both on its clock, `speed` times the wall's), and reports never linked."""
    with session_factory(url)() as session:
        linked, unlinked = session.execute(
            text(
                "WITH firsts AS ("
                " SELECT r.id, min(e.added_at) - r.received_at AS wait FROM reports r"
                " LEFT JOIN incident_evidence e ON e.report_id = r.id GROUP BY r.id)"
                " SELECT percentile_disc(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM wait)),"
                " count(*) FILTER (WHERE wait IS NULL) FROM firsts"
            )
        ).one()
    return (round(float(linked) / speed, 2) if linked is not None else None), int(unlinked)


def _dead_letters(url: str) -> int:
    with session_factory(url)() as session:
        return int(
            session.execute(
                text("SELECT count(*) FROM notifications WHERE status = 'dead'")
            ).scalar_one()
        )


@dataclass(frozen=True)
class _Stage:
    """The utility and its storm, ready to be played."""

    url: str
    grid: StormGrid
    """Its fault candidates are the feeders the storm trips."""
    customers: int
    out: int
    access: DemoAccess
    dates: Clock
    speed: float
    crews: int


async def _play(
    stage: _Stage, base_url: str, memory: PeakMemory, progress: Progress
) -> tuple[StormState, float | None]:
    """Play the storm until every message is sent and everyone out is told (or the
    timeout); the wall seconds from its start to the last one told, None at the timeout."""
    options = StormOptions(
        faults=len(stage.grid.candidates),
        call_rate=CALL_RATE,
        seed=SEED,
        speed=stage.speed,
        meter_share=METER_SHARE,
    )
    async with StormClient(
        base_url, gateway_key=stage.access.api_key, token=stage.access.token, seed=SEED
    ) as client:
        runner = StormRunner(stage.grid, client, options, run_id=f"bench-{SEED}", dates=stage.dates)
        started = time.monotonic()
        playing = asyncio.create_task(runner.run())
        told_s: float | None = None
        try:
            while not playing.done():
                await asyncio.sleep(SAMPLE_S)
                memory.sample()
                state = runner.state
                progress("storm: reports", len(state.receipts) + state.skipped, state.contacts_due)
                sent = (
                    state.contacts_due > 0
                    and len(state.receipts) + state.skipped >= state.contacts_due
                    and state.gasps >= state.gasps_due
                )
                if told_s is None and await asyncio.to_thread(_told, stage.url) >= stage.out:
                    told_s = round(time.monotonic() - started, 1)
                if sent and (told_s is not None or time.monotonic() - started > TOLD_TIMEOUT_S):
                    break
        finally:
            runner.stop()
            await playing
    return runner.state, told_s


def _stage(url: str, quick: bool, wanted: int, progress: Progress) -> _Stage:
    """The tiled grid in the database, crews and staff, and the feeders the storm trips."""
    base = read_grid(get_settings().sample_grid)
    model = scale.tiled(base, max(1, round(wanted / len(base.premises))))
    speed = QUICK_SPEED if quick else SPEED
    crews = QUICK_CREWS if quick else CREWS
    dates = Clock(epoch=datetime.now(UTC).replace(microsecond=0), speed=speed)
    with session_scope(session_factory(url)) as session:
        bulk_save_grid(session, model, lambda t, d, n: progress(f"storm: import {t}", d, n))
    access = stage_access(url, model, crews, dates)
    grid = StormGrid.from_model(model)
    feeders = tripped_feeders(grid, random.Random(SEED), round(OUT_SHARE * len(model.premises)))
    out = _affected(url, grid, feeders)
    get_engine(url).dispose()
    return _Stage(
        url,
        replace(grid, candidates=feeders),
        len(model.premises),
        out,
        access,
        dates,
        speed,
        crews,
    )


def run(
    admin_url: str, *, quick: bool, progress: Progress, customers: int | None = None
) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with fresh_database(admin_url, DATABASE) as url:
        stage = _stage(url, quick, customers or (QUICK_CUSTOMERS if quick else CUSTOMERS), progress)
        with running_sink() as sink:
            environment = staged_environment(sink.apprise_url("sms"), stage.dates)
            progress("storm: engine start", 0, 1)
            with (
                running_engine(url, role_environment=environment) as engine,
                running_server(url, env=environment) as server,
            ):
                engine.wait_ready()
                progress("storm: engine start", 1, 1)
                memory = PeakMemory({"api": server.pid, "engine": engine.pid})
                stop, results = context.Event(), context.Queue()
                viewer = context.Process(target=_view_map, args=(server.url, stop, results))
                viewer.start()
                try:
                    state, told_s = asyncio.run(_play(stage, server.url, memory, progress))
                finally:
                    stop.set()
                    map_load: MapLoad = results.get(timeout=120)
                    viewer.join(timeout=30)
                told = _told(url)
                to_incident_p99, unlinked = _report_to_incident_p99_s(url, stage.speed)
                dead = _dead_letters(url)
    tally = state.tally
    reports = [r.sent for r in state.receipts]
    return {
        "customers": stage.customers,
        "out": stage.out,
        "faults": len(stage.grid.candidates),
        "crews": stage.crews,
        "speed": stage.speed,
        "reports": len(reports),
        "reports_accepted": sum(1 for r in reports if r.accepted),
        "reports_not_linked": unlinked,
        "last_gasps": state.gasps,
        "faults_repaired": len(state.repaired),
        "report_p99_ms": round(1000 * percentile([r.elapsed_s for r in reports], 0.99), 1),
        "report_to_incident_p99_s": to_incident_p99,
        "all_told_s": told_s,
        "told_share": round(told / max(stage.out, 1), 4),
        "map_requests": map_load.requests,
        "map_p99_ms": round(1000 * percentile(map_load.latencies_s, 0.99), 1),
        "rss_mb": memory.most,
        "max_rss_mb": max(memory.most.values(), default=0.0),
        "errors": tally.rejected + tally.lost + map_load.errors + dead,
        "errors_by_kind": {
            "requests_refused": tally.rejected,
            "requests_lost": tally.lost,
            "map": map_load.errors,
            "messages_dead": dead,
        },
        "refused_by": dict(tally.refusals.most_common()),
    }
