"""A storm's last gasps end to end: from the head-end's batches to the incidents right.

The utility is the sample grid tiled to `CUSTOMERS` customers (`scale.tiled`, a quarter of
the scale benchmark's million), bulk-loaded, every premise with its meter. Seeded faults
(`inject_faults`) put about `OUT_SHARE` of the customers out within a minute; each of
their meters sends one last gasp, dated the fault's time plus up to `GASP_SPREAD_S`, and
a head-end posts them in time order to `POST /api/v1/ami/events`, in batches of the most
the route takes, from `CLIENTS` clients at once. The API runs as `outage serve` in a
child process (two workers, as the intake benchmark's server): the batches must cross
the process boundary and land while the engine reads, as in production. The engine runs
`run_forever` in a process of its own, as `outage serve --role engine` does, without the
role's notification workers (they would fan out to the customers told of the outages and
measure something else); it has loaded the network before the first batch.

Where the faults are: when only last gasps speak, the inference rolls two faults under
one feeder up into the feeder's breaker (a customer out whose meter says nothing costs
only what one who did not call costs, next to nothing when nobody calls;
docs/prediction.md), so each feeder (a protective device with none above it) holds at
most one fault. Whole feeders trip, in a seeded order, until `OUT_SHARE` of
the customers are out; each other feeder has one fault at a device drawn at random
below its head (a fuse, mostly), so small faults are mixed in with the lockouts.

Figures (`storm_` first), each goal beside its figure with whether it was met:

- `storm_events_per_s`: last gasps stored per second over the whole send;
  `storm_stored_s`: from the first batch sent to the last one stored (goal 60 s).
- `storm_incidents_right_s`: from the last batch stored until every fault's device has an
  active outage incident and there is no other one (goal 10 s), the database polled every
  `POLL_S`; None when that never happens within `INCIDENTS_TIMEOUT_S`, and then
  `storm_incidents_right`, `_missing` and `_wrong` tell what was found.
- `storm_engine_rss_mb`: the engine process's resident memory, the most seen while polling.
"""

import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psutil
from sqlalchemy import select

from benchmarks import scale
from benchmarks.harness import fresh_database, head_end_key, running_engine, running_server
from grid_topology.geojson import read_grid
from grid_topology.model import GridModel
from grid_topology.topology import Network, Topology
from outage.db import get_engine, session_factory, session_scope
from outage.grid.bulk import bulk_save_grid
from outage.grid.models import Device
from outage.incidents.enums import IncidentKind
from outage.incidents.lifecycle import ACTIVE
from outage.incidents.models import Incident
from outage.intake.schemas import METER_BATCH_MAX
from outage.prediction.simulator import Fault, fault_candidates, inject_faults
from outage.settings import get_settings

CUSTOMERS = 250_000
QUICK_CUSTOMERS = 8_000
OUT_SHARE = 0.4
"""Customers out: 100,000 of 250,000."""
CLIENTS = 4
"""Batches in flight at once, as a head-end's posting threads."""
FAULT_WINDOW_S = 60.0
"""The faults start within this minute."""
GASP_SPREAD_S = 3.0
"""A last gasp is dated its fault's time plus up to this (meters' clocks and jitter)."""
STORED_GOAL_S = 60.0
INCIDENTS_GOAL_S = 10.0
INCIDENTS_TIMEOUT_S = 120.0
"""How long to poll for the incidents to match the faults before saying what was found."""
POLL_S = 0.2
SEED = 0
DATABASE = "outage_bench_ami_storm"

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Found:
    """The active outage incidents against the injected faults."""

    right: int
    missing: int
    wrong: int
    """Active outage incidents on no fault's device, or a second one on the same device."""

    @property
    def matches(self) -> bool:
        return self.missing == 0 and self.wrong == 0


def storm_faults(topology: Topology, rng: random.Random, customers_out: int) -> list[Fault]:
    """Whole feeders tripped until `customers_out` are out, one smaller fault in each other
    feeder (see the module's docstring)."""
    candidates = fault_candidates(topology)
    pool = set(candidates)
    heads = [ref for ref in candidates if pool.isdisjoint(topology.upstream(ref).devices)]
    tripped: list[Fault] = []
    out = 0
    for fault in inject_faults(
        topology, rng, len(heads), candidates=heads, window_s=FAULT_WINDOW_S
    ):
        if out >= customers_out:
            break
        tripped.append(fault)
        out += len(fault.accounts)
    head_set = set(heads)
    below: dict[str, list[str]] = {}
    for ref in candidates:
        head = next((d for d in topology.upstream(ref).devices if d in head_set), None)
        if head is not None:
            below.setdefault(head, []).append(ref)
    taken = {fault.device for fault in tripped}
    small = [rng.choice(below[head]) for head in heads if head not in taken and head in below]
    return tripped + inject_faults(
        topology, rng, len(small), candidates=small, window_s=FAULT_WINDOW_S
    )


def last_gasps(
    faults: list[Fault], meter_of: dict[str, str], since: datetime, rng: random.Random
) -> list[dict[str, str]]:
    """One last gasp per meter out, in time order, as a head-end forwards them."""
    gasps = [
        (
            since + timedelta(seconds=fault.start_s + rng.uniform(0.0, GASP_SPREAD_S)),
            meter_of[account],
        )
        for fault in faults
        for account in sorted(fault.accounts)
    ]
    return [
        {"meter_id": meter, "event": "last_gasp", "occurred_at": at.isoformat()}
        for at, meter in sorted(gasps)
    ]


def found(url: str, faults: set[str]) -> Found:
    """The active outage incidents, by the device they stand on, against the faults."""
    with session_factory(url)() as session:
        places = list(
            session.scalars(
                select(Device.asset_ref)
                .select_from(Incident)
                .outerjoin(Device, Device.id == Incident.device_id)
                .where(Incident.kind == IncidentKind.OUTAGE, Incident.status.in_(sorted(ACTIVE)))
            )
        )
    right = faults.intersection(places)
    return Found(right=len(right), missing=len(faults - right), wrong=len(places) - len(right))


def _send(
    server_url: str, key: str, gasps: list[dict[str, str]], batch: int, progress: Progress
) -> tuple[int, int, float]:
    """Post the gasps in batches from `CLIENTS` threads: (accepted, errors, seconds from the
    first batch sent to the last one stored)."""
    bodies = [{"events": gasps[i : i + batch]} for i in range(0, len(gasps), batch)]
    accepted = errors = 0
    with (
        httpx.Client(base_url=server_url, headers={"X-API-Key": key}, timeout=300) as client,
        ThreadPoolExecutor(CLIENTS) as pool,
    ):
        started = time.perf_counter()
        posts = [pool.submit(client.post, "/api/v1/ami/events", json=body) for body in bodies]
        for done, post in enumerate(as_completed(posts), start=1):
            response = post.result()
            errors += response.status_code != 200
            accepted += response.json().get("accepted", 0) if response.is_success else 0
            progress("ami storm: batches", done, len(bodies))
        return accepted, errors, time.perf_counter() - started


def _until_right(url: str, faults: set[str], engine_pid: int, progress: Progress) -> dict[str, Any]:
    """Poll until the incidents match the faults or `INCIDENTS_TIMEOUT_S` passes."""
    engine = psutil.Process(engine_pid)
    rss = 0
    started = time.perf_counter()
    while True:
        rss = max(rss, engine.memory_info().rss)
        now = found(url, faults)
        elapsed = time.perf_counter() - started
        progress("ami storm: incidents right", now.right, len(faults))
        if now.matches or elapsed > INCIDENTS_TIMEOUT_S:
            break
        time.sleep(POLL_S)
    right_s = round(elapsed, 2) if now.matches else None
    return {
        "storm_incidents_right_s": right_s,
        "storm_incidents_goal_s": INCIDENTS_GOAL_S,
        "storm_incidents_goal_met": right_s is not None and right_s <= INCIDENTS_GOAL_S,
        "storm_incidents_right": now.right,
        "storm_incidents_missing": now.missing,
        "storm_incidents_wrong": now.wrong,
        "storm_engine_rss_mb": round(rss / 2**20, 1),
    }


def _import(url: str, model: GridModel, progress: Progress) -> None:
    def tick(table: str, done: int, total: int) -> None:
        progress(f"ami storm: import {table}", done, total)

    with session_scope(session_factory(url)) as session:
        bulk_save_grid(session, model, tick)
    get_engine(url).dispose()


def _storm(model: GridModel) -> tuple[list[Fault], dict[str, str]]:
    """The storm's faults on the grid, and every account's meter."""
    meter_of = {p.customer.account: p.meter_id for p in model.premises if p.meter_id is not None}
    topology = Topology(Network.from_model(model))
    faults = storm_faults(topology, random.Random(SEED), round(OUT_SHARE * len(model.premises)))
    return faults, meter_of


def run(
    admin_url: str,
    *,
    quick: bool,
    progress: Progress,
    customers: int | None = None,
    batch: int = METER_BATCH_MAX,
) -> dict[str, Any]:
    base = read_grid(get_settings().sample_grid)
    wanted = customers or (QUICK_CUSTOMERS if quick else CUSTOMERS)
    model = scale.tiled(base, max(1, round(wanted / len(base.premises))))
    with fresh_database(admin_url, DATABASE) as url:
        _import(url, model, progress)
        progress("ami storm: engine start", 0, 1)
        with running_engine(url) as engine:
            faults, meter_of = _storm(model)  # while the engine loads
            del model
            with running_server(url) as server:
                engine.wait_ready()
                progress("ami storm: engine start", 1, 1)
                gasps = last_gasps(
                    faults,
                    meter_of,
                    datetime.now(UTC) - timedelta(seconds=2 * FAULT_WINDOW_S),
                    random.Random(SEED),
                )
                accepted, errors, stored_s = _send(
                    server.url, head_end_key(url), gasps, batch, progress
                )
                incidents = _until_right(url, {f.device for f in faults}, engine.pid, progress)
    all_stored = accepted == len(gasps) and errors == 0
    return {
        "storm_customers": len(meter_of),
        "storm_faults": len(faults),
        "storm_gasps": len(gasps),
        "storm_batches": -(-len(gasps) // batch),
        "storm_clients": CLIENTS,
        "storm_accepted": accepted,
        "storm_errors": errors,
        "storm_events_per_s": round(accepted / stored_s, 1),
        "storm_stored_s": round(stored_s, 2),
        "storm_stored_goal_s": STORED_GOAL_S,
        "storm_stored_goal_met": all_stored and stored_s <= STORED_GOAL_S,
        **incidents,
    }
