"""Fault location from customer calls, against the spatial-clustering baseline.

In process and pure: no database, no server. For each grid, many seeded storm scenarios
each put 3 to 6 simultaneous faults at random protective devices (disjoint areas, one
candidate per distinct outage area, see `fault_candidates`) and simulate the calls they
cause (`outage.prediction.simulator`), with noise calls from customers who are not out.
The evidence is fed to `predict` in time order, and `predict` runs on all evidence so far
after every new item, as the engine does during a storm. It is not told the call rate.

Figures per grid and call rate (the same faults at every call rate of a grid):

- `faults`: faults injected; `undetectable`: those of them that produced no evidence at
  all (nobody called), which no method can find. `exact` and `within_one_hop` are shares of
  the *detectable* faults, i.e. of `faults - undetectable`.
- `exact`: the faulted device is among the final predictions.
- `within_one_hop`: a final prediction is the faulted device, its protective parent or one
  of its protective children (a single-service prediction counts as a child of the
  customer's nearest protective device).
- `false_incidents`: final predictions within one hop of no fault, per scenario (these
  include the single-service outages that noise calls produce).
- `baseline_exact`, `baseline_within_one_hop`: the same for the topology-blind spatial
  baseline (`benchmarks.baseline`), run once on all of a scenario's evidence.
- `reports_to_correct_median`: for faults predicted exactly at the end, how many items of
  their own evidence had arrived when their device appeared in the predictions for good
  (it may have come and gone before).
- `latency_p50_s`, `latency_p99_s`: time of one `predict` call on all evidence so far.

The top-level figures are those of the main configuration (the first grid, 20% of affected
customers calling, noise calls 5% of the real calls); `table` has every grid and call rate.
Grids: SimBench 1-MVLV-urban-all-0-sw and 1-MVLV-semiurb-all-0-sw with the simbench extra,
the bundled sample grid with `--quick` or without it.
"""

import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks import predict_ami
from benchmarks.baseline import SpatialBaseline
from benchmarks.harness import percentile
from grid_topology.geojson import read_grid
from grid_topology.model import GridModel
from grid_topology.simbench import SimbenchUnavailable, import_simbench
from grid_topology.topology import Network, Topology
from outage.prediction.inference import SERVICE, Evidence, Prediction, predict
from outage.prediction.simulator import (
    Fault,
    SimEvent,
    fault_candidates,
    inject_faults,
    simulate_evidence,
)
from outage.settings import get_settings

GRIDS = ("1-MVLV-urban-all-0-sw", "1-MVLV-semiurb-all-0-sw")
CALL_RATES = (0.05, 0.1, 0.2, 0.3)
MAIN_CALL_RATE = 0.2
NOISE = 0.05
FAULTS_PER_SCENARIO = (3, 6)
SCENARIOS = 100
QUICK_SCENARIOS = 20

Progress = Callable[[str, int, int], None]


@dataclass
class Grid:
    """A grid as the benchmark uses it, with the baseline that runs on it."""

    name: str
    topology: Topology
    node_of: dict[str, str]
    baseline: SpatialBaseline
    _parents: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def from_model(cls, name: str, model: GridModel) -> "Grid":
        topology = Topology(Network.from_model(model))
        return cls(
            name=name,
            topology=topology,
            node_of={p.customer.account: p.node for p in model.premises},
            baseline=SpatialBaseline(
                topology, {p.customer.account: p.location for p in model.premises}
            ),
        )

    def protective_parent(self, device: str) -> str | None:
        if device not in self._parents:
            links = self.topology.network.links
            above = self.topology.upstream(device).devices
            self._parents[device] = next((d for d in above if links[d].is_protective), None)
        return self._parents[device]

    def near(self, predicted: str, fault: str, *, service: bool = False) -> bool:
        """Whether a predicted device is within one hop of a fault in the protective tree.

        A single-service prediction (`predicted` is then an account) hangs below the
        customer's nearest protective device.
        """
        if service:
            chain = self.topology.protective_chain(self.node_of[predicted])
            return bool(chain) and chain[0] == fault
        return fault in (predicted, self.protective_parent(predicted)) or (
            predicted == self.protective_parent(fault)
        )


def _load_grids(quick: bool, progress: Progress) -> list[Grid]:
    if not quick:
        try:
            grids = []
            for i, code in enumerate(GRIDS):
                progress("predict: import grids", i, len(GRIDS))
                grids.append(Grid.from_model(code, import_simbench(code)))
            progress("predict: import grids", len(GRIDS), len(GRIDS))
            return grids
        except SimbenchUnavailable:
            pass
    sample = get_settings().sample_grid
    return [Grid.from_model(sample.name, read_grid(sample))]


@dataclass
class Tally:
    """Figures summed over the scenarios of one grid and call rate."""

    scenarios: int = 0
    faults: int = 0
    undetectable: int = 0
    exact: int = 0
    within_one_hop: int = 0
    baseline_exact: int = 0
    baseline_within_one_hop: int = 0
    false_incidents: int = 0
    reports_to_correct: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def figures(self, grid: str, call_rate: float) -> dict[str, Any]:
        detectable = self.faults - self.undetectable

        def share(count: int) -> float | None:
            return round(count / detectable, 4) if detectable else None

        return {
            "grid": grid,
            "call_rate": call_rate,
            "noise": NOISE,
            "faults": self.faults,
            "exact": share(self.exact),
            "within_one_hop": share(self.within_one_hop),
            "baseline_exact": share(self.baseline_exact),
            "reports_to_correct_median": (
                float(statistics.median(self.reports_to_correct))
                if self.reports_to_correct
                else None
            ),
            "latency_p99_s": round(percentile(self.latencies, 0.99), 5),
            "latency_p50_s": round(percentile(self.latencies, 0.5), 5),
            "false_incidents": round(self.false_incidents / max(1, self.scenarios), 3),
            "baseline_within_one_hop": share(self.baseline_within_one_hop),
            "undetectable": self.undetectable,
            "scenarios": self.scenarios,
        }


def _hits(grid: Grid, prediction: Prediction, fault: str) -> bool:
    return grid.near(prediction.device, fault, service=prediction.kind == SERVICE)


def score_scenario(
    grid: Grid, faults: Sequence[Fault], events: Sequence[SimEvent], tally: Tally
) -> None:
    """Feed the evidence in time order, predicting after each item, and score the end."""
    evidence: list[Evidence] = []
    seen: Counter[str] = Counter()
    streak_from: dict[str, int | None] = {f.device: None for f in faults}
    predictions: list[Prediction] = []
    for event in events:
        evidence.append(Evidence(event.account, event.kind))
        if event.fault is not None:
            seen[event.fault] += 1
        started = time.perf_counter()
        predictions = predict(grid.topology, evidence)
        tally.latencies.append(time.perf_counter() - started)
        named = {p.device for p in predictions}
        for device, count in streak_from.items():
            if device not in named:
                streak_from[device] = None
            elif count is None:
                streak_from[device] = seen[device]
    baseline = grid.baseline.predict(e.account for e in events)
    tally.scenarios += 1
    tally.faults += len(faults)
    for fault in faults:
        if not seen[fault.device]:
            tally.undetectable += 1
            continue
        reports = streak_from[fault.device]
        if reports is not None:
            tally.exact += 1
            tally.reports_to_correct.append(reports)
        tally.within_one_hop += any(_hits(grid, p, fault.device) for p in predictions)
        tally.baseline_exact += fault.device in baseline
        tally.baseline_within_one_hop += any(grid.near(d, fault.device) for d in baseline)
    tally.false_incidents += sum(
        1 for p in predictions if not any(_hits(grid, p, f.device) for f in faults)
    )


def run(
    admin_url: str,
    *,
    quick: bool,
    progress: Progress,
    scenarios: int | None = None,
) -> dict[str, Any]:
    """`admin_url` is unused: this benchmark needs no database."""
    del admin_url
    grids = _load_grids(quick, progress)
    count = scenarios if scenarios is not None else QUICK_SCENARIOS if quick else SCENARIOS
    call_rates = (MAIN_CALL_RATE,) if quick else CALL_RATES
    table = []
    ami_table = []
    for grid in grids:
        predict(grid.topology, [])  # builds the engine's index, as a running engine has
        candidates = fault_candidates(grid.topology)
        storms = []
        for i in range(count):
            rng = random.Random(f"{grid.name}/{i}")
            size = rng.randint(*FAULTS_PER_SCENARIO)
            storms.append(inject_faults(grid.topology, rng, size, candidates=candidates))
        for call_rate in call_rates:
            stage = f"predict: {grid.name} p={call_rate}"
            tally = Tally()
            for i, faults in enumerate(storms):
                progress(stage, i, count)
                rng = random.Random(f"{grid.name}/{i}/{call_rate}")
                events = simulate_evidence(
                    grid.topology, faults, rng, call_rate=call_rate, noise=NOISE
                )
                score_scenario(grid, faults, events, tally)
            progress(stage, count, count)
            table.append(tally.figures(grid.name, call_rate))
        ami_table.extend(predict_ami.rows(grid, storms, NOISE, progress))
    main = next(
        row for row in table if row["grid"] == grids[0].name and row["call_rate"] == MAIN_CALL_RATE
    )
    return {**main, "table": table, "ami": predict_ami.summary(ami_table)}
