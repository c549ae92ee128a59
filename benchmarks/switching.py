"""Switching on a live network: `Topology.switched` against orienting the whole grid again.

In process and pure: no database, no server. On each grid, `SAMPLES` random single-device
changes, each from the grid's normal state: a switchable device (breaker, recloser, fuse,
switch, disconnector) drawn at random is toggled, opened if closed and closed if open (a
normally open tie). Customer counts are computed once beforehand, so every switch carries
them along as a live engine's would.

Figures per grid:

- `devices`, `customers`: the grid's size.
- `rebuild_s`: `Topology(network)`, orienting the whole grid, which every change cost before.
- `switch_p50_ms`, `switch_p99_ms`: one `Topology.switched` call.
- `speedup_p50`: `rebuild_s` over `switch_p50_ms`.
- `counts_p50_ms`: `customer_counts()` on a switched topology, over the first
  `COUNT_SAMPLES` changes; it copies out the figures of every device, so it grows with the
  grid while a switch does not.

Grids: SimBench 1-MVLV-urban-all-0-sw with the simbench extra (not with `--quick`), and the
bundled sample grid tiled as in `benchmarks.scale` to `scale.CUSTOMERS` customers
(`scale.QUICK_CUSTOMERS` with `--quick`). The first grid's figures are the top-level ones;
`table` has every grid.
"""

import random
import time
from collections.abc import Callable
from typing import Any

from benchmarks import scale
from benchmarks.harness import percentile
from grid_topology.geojson import read_grid
from grid_topology.model import SWITCHING_KINDS
from grid_topology.simbench import SimbenchUnavailable, import_simbench
from grid_topology.topology import Network, Topology
from outage.settings import get_settings

SIMBENCH_GRID = "1-MVLV-urban-all-0-sw"
SAMPLES = 200
COUNT_SAMPLES = 10
SEED = 0

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
    switchable = sorted(
        asset_ref for asset_ref, link in network.links.items() if link.kind in SWITCHING_KINDS
    )
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


def _grids(quick: bool, customers: int | None) -> list[tuple[str, Callable[[], Network]]]:
    """Names and loaders, so that only one grid is in memory at a time."""

    def tiled() -> Network:
        base = read_grid(get_settings().sample_grid)
        wanted = customers or (scale.QUICK_CUSTOMERS if quick else scale.CUSTOMERS)
        copies = max(1, round(wanted / len(base.premises)))
        return Network.from_model(scale.tiled(base, copies))

    grids = [("tiled sample grid", tiled)]
    if not quick:
        grids.insert(0, (SIMBENCH_GRID, lambda: Network.from_model(import_simbench(SIMBENCH_GRID))))
    return grids


def run(
    admin_url: str, *, quick: bool, progress: Progress, customers: int | None = None
) -> dict[str, Any]:
    """`admin_url` is unused: this benchmark needs no database."""
    del admin_url
    table = []
    for name, load in _grids(quick, customers):
        progress(f"switching: load {name}", 0, 1)
        try:
            network = load()
        except SimbenchUnavailable:
            continue
        progress(f"switching: load {name}", 1, 1)
        table.append(measure(name, network, progress=progress))
        del network
    return {**table[0], "table": table}
