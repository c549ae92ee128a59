"""A utility of a million customers: import it, start the engine on it, re-predict a storm.

The utility is the bundled sample grid (a SimBench extract, ~1,600 customers) tiled side by
side until it has `CUSTOMERS` customers: each copy is moved by its place in the tiling and
every name in it (nodes, devices, feeders, substations, premises, accounts, meters) gets the
copy's prefix, so the copies are separate networks of one utility. Each customer's phone
and e-mail are their own too, as in a real utility: copies sharing them would make every
report by phone match hundreds of customers.

Figures:

- `import_s`: loading it into an empty database with the bulk importer
  (`outage.grid.bulk`), topology derivations and territory included.
- `upsert_import_per_s`: customers per second of the regular importer (`save_grid`, merged
  by natural key) on `BASELINE_TILES` copies, the baseline of `import_per_s`.
- `engine_rss_mb`, `engine_load_s`: the resident memory and start-up time of a prediction
  engine that loads the network from the database, measured in a fresh process;
  `topology_s`, the part of it until the network is read and oriented (goal: 20 s).
- `repredict_s`: one full re-prediction in that engine over a storm's evidence (`STORM_FAULTS`
  faults, 20% of affected customers calling, 5% noise, last gasps from 30% of meters),
  with the engine's index warm as it is in a running engine; `index_build_s` is the first
  prediction, which builds it.
"""

import math
import multiprocessing
import random
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import psutil

from benchmarks.harness import fresh_database
from grid_topology.geojson import read_grid
from grid_topology.model import Coordinate, Customer, GridModel
from outage.db import create_database, get_engine, session_factory, session_scope
from outage.grid.bulk import bulk_save_grid
from outage.grid.service import save_grid
from outage.settings import get_settings

CUSTOMERS = 1_000_000
QUICK_CUSTOMERS = 50_000
BASELINE_TILES = 8
QUICK_BASELINE_TILES = 2
STORM_FAULTS = 300
QUICK_STORM_FAULTS = 30
DATABASE = "outage_bench_scale"
TILE_GAP = 0.002
"""Degrees between two copies."""

Progress = Callable[[str, int, int], None]


def _moved(points: tuple[Coordinate, ...], dx: float, dy: float) -> tuple[Coordinate, ...]:
    return tuple((round(x + dx, 6), round(y + dy, 6)) for x, y in points)


def tiled(base: GridModel, copies: int) -> GridModel:
    """`copies` copies of `base` side by side in a square-ish tiling, names prefixed."""
    xs = [n.location[0] for n in base.nodes]
    ys = [n.location[1] for n in base.nodes]
    width, height = max(xs) - min(xs) + TILE_GAP, max(ys) - min(ys) + TILE_GAP
    columns = math.ceil(math.sqrt(copies))
    out = GridModel()
    for tile in range(copies):
        dx, dy = (tile % columns) * width, (tile // columns) * height
        prefix = f"T{tile:04d}/"

        def name(value: str, prefix: str = prefix) -> str:
            return prefix + value

        def opt(value: str | None, prefix: str = prefix) -> str | None:
            return prefix + value if value is not None else None

        out.substations.extend(
            replace(s, name=name(s.name), location=_moved((s.location,), dx, dy)[0])
            for s in base.substations
        )
        out.nodes.extend(
            replace(
                n,
                ref=name(n.ref),
                substation=opt(n.substation),
                location=_moved((n.location,), dx, dy)[0],
            )
            for n in base.nodes
        )
        out.devices.extend(
            replace(
                d,
                asset_ref=name(d.asset_ref),
                from_node=name(d.from_node),
                to_node=name(d.to_node),
                substation=opt(d.substation),
                path=_moved(d.path, dx, dy),
            )
            for d in base.devices
        )
        out.feeders.extend(
            replace(f, name=name(f.name), substation=name(f.substation), head=name(f.head))
            for f in base.feeders
        )
        out.premises.extend(
            replace(
                p,
                ref=name(p.ref),
                node=name(p.node),
                location=_moved((p.location,), dx, dy)[0],
                meter_id=opt(p.meter_id),
                customer=_own_contacts(
                    replace(p.customer, account=name(p.customer.account)),
                    tile * len(base.premises) + index,
                ),
            )
            for index, p in enumerate(base.premises)
        )
    return out


_PHONE_SERIAL = 7
"""Digits at the end of a phone number that number the tiled customers."""


def _own_contacts(customer: Customer, serial: int) -> Customer:
    """The customer with a phone and e-mail no other tiled customer has: the serial in
    the phone's last digits (its country and network prefix kept) and in the e-mail."""
    if serial >= 10**_PHONE_SERIAL:
        raise ValueError(f"more than {10**_PHONE_SERIAL:,} tiled customers")
    phone = customer.phone[:-_PHONE_SERIAL] + f"{serial:0{_PHONE_SERIAL}d}"
    email = customer.email
    if email is not None:
        local, _, domain = email.partition("@")
        email = f"{local}+{serial}@{domain}"
    return replace(customer, phone=phone, email=email)


def _import(url: str, model: GridModel, progress: Progress, *, bulk: bool) -> float:
    stage = "scale: import" if bulk else "scale: upsert baseline"

    def tick(table: str, done: int, total: int) -> None:
        progress(f"{stage} {table}", done, total)

    started = time.perf_counter()
    with session_scope(session_factory(url)) as session:
        (bulk_save_grid if bulk else save_grid)(session, model, tick)
    return time.perf_counter() - started


def probe_engine(url: str, faults: int, answer: Any) -> None:
    """In a fresh process: start an engine on the database, then re-predict a storm."""
    from grid_topology.topology import Topology
    from outage.grid.service import load_network
    from outage.prediction.engine import Engine
    from outage.prediction.inference import Evidence, predict
    from outage.prediction.simulator import inject_faults, simulate_evidence

    process = psutil.Process()
    before = process.memory_info().rss
    started = time.perf_counter()
    with session_factory(url)() as session:
        topology = Topology(load_network(session))
        topology_s = time.perf_counter() - started
        engine = Engine(topology, window=timedelta(hours=4))
    load_s = time.perf_counter() - started
    rss = process.memory_info().rss
    rng = random.Random(0)
    placed = inject_faults(engine.topology, rng, faults)
    events = simulate_evidence(
        engine.topology, placed, rng, call_rate=0.2, noise=0.05, meter_share=0.3
    )
    evidence = [Evidence(e.account, e.kind) for e in events]
    started = time.perf_counter()
    predict(engine.topology, evidence, engine.params)
    index_build_s = time.perf_counter() - started
    started = time.perf_counter()
    predictions = predict(engine.topology, evidence, engine.params)
    repredict_s = time.perf_counter() - started
    answer.put(
        {
            "engine_rss_mb": round(rss / 2**20, 1),
            "engine_rss_before_load_mb": round(before / 2**20, 1),
            "topology_s": round(topology_s, 2),
            "engine_load_s": round(load_s, 2),
            "repredict_s": round(repredict_s, 3),
            "index_build_s": round(index_build_s, 3),
            "storm_faults": len(placed),
            "storm_evidence": len(evidence),
            "storm_predictions": len(predictions),
        }
    )


def _engine_figures(url: str, faults: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    answer = context.Queue()
    process = context.Process(target=probe_engine, args=(url, faults, answer))
    process.start()
    figures: dict[str, Any] = answer.get()
    process.join()
    return figures


def run(
    admin_url: str, *, quick: bool, progress: Progress, customers: int | None = None
) -> dict[str, Any]:
    base = read_grid(get_settings().sample_grid)
    wanted = customers or (QUICK_CUSTOMERS if quick else CUSTOMERS)
    copies = max(1, round(wanted / len(base.premises)))
    baseline_tiles = min(copies, QUICK_BASELINE_TILES if quick else BASELINE_TILES)
    with fresh_database(admin_url, DATABASE) as url:
        upsert_s = _import(url, tiled(base, baseline_tiles), progress, bulk=False)
        upsert_per_s = baseline_tiles * len(base.premises) / upsert_s
        get_engine(url).dispose()
        url = create_database(admin_url, DATABASE)
        model = tiled(base, copies)
        total = len(model.premises)
        devices = len(model.devices)
        import_s = _import(url, model, progress, bulk=True)
        del model
        get_engine(url).dispose()
        progress("scale: engine", 0, 1)
        engine = _engine_figures(url, QUICK_STORM_FAULTS if quick else STORM_FAULTS)
        progress("scale: engine", 1, 1)
    return {
        "customers": total,
        "import_s": round(import_s, 1),
        "engine_rss_mb": engine.pop("engine_rss_mb"),
        "repredict_s": engine.pop("repredict_s"),
        "devices": devices,
        "tiles": copies,
        "import_per_s": round(total / import_s, 1),
        "upsert_import_per_s": round(upsert_per_s, 1),
        "import_ratio_vs_upsert": round(total / import_s / upsert_per_s, 2),
        **engine,
    }
