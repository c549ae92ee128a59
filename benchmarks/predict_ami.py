"""The prediction benchmark's AMI mode: the engine asks meters where calls leave doubt.

Every customer has a smart meter the engine can ping through a simulated head-end; the
head-end forwards no last gasps (as many do not in a storm), so what the meters say comes
only from pings. A ping is answered after `PING_LATENCY_S` (uniform), or never, with
probability `PING_LOSS`; the answer is "off" when the customer is out, "on" otherwise.
As the engine does (`outage.prediction.evidence`), an "on" after a call drops the call:
that customer's supply is fine, the fault is inside the premise.

The same scenarios as the main mode run twice, with pings and without, in simulated time:
after every call and every answer, `infer` runs on the evidence so far and each
prediction's pings are chosen by `choose_pings` (expected information gain, per
prediction a budget of `PingPolicy.budget` over its life, keyed by the device it names).

Figures per call rate, `pings` true or false:

- `exact`, `within_one_hop`, `false_incidents` as in the main mode;
- `false_service_per_scenario`: final single-service predictions from noise calls;
- `pings_per_incident`: pings sent over final predictions;
- `fault_to_exact_p50_s`, `fault_to_exact_p90_s`: from the fault to its device being
  predicted for good, for faults predicted exactly.
"""

import heapq
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from benchmarks.harness import percentile
from grid_topology.topology import Topology
from outage.prediction.inference import SERVICE, Evidence, EvidenceKind, Prediction, infer
from outage.prediction.ping_choice import PingPolicy, choose_pings
from outage.prediction.simulator import Fault, SimEvent, outage_starts, simulate_evidence

if TYPE_CHECKING:
    from benchmarks.predict import Grid

CALL_RATES = (0.05, 0.1, 0.2)
PING_LOSS = 0.1
PING_LATENCY_S = (5.0, 60.0)

Progress = Callable[[str, int, int], None]


@dataclass
class AmiTally:
    scenarios: int = 0
    detectable: int = 0
    exact: int = 0
    within_one_hop: int = 0
    false_incidents: int = 0
    false_service: int = 0
    final_predictions: int = 0
    pings: int = 0
    to_exact_s: list[float] = field(default_factory=list)

    def figures(self, call_rate: float, pinged: bool) -> dict[str, Any]:
        def share(count: int) -> float | None:
            return round(count / self.detectable, 4) if self.detectable else None

        return {
            "call_rate": call_rate,
            "pings": pinged,
            "exact": share(self.exact),
            "within_one_hop": share(self.within_one_hop),
            "false_incidents": round(self.false_incidents / max(1, self.scenarios), 3),
            "false_service_per_scenario": round(self.false_service / max(1, self.scenarios), 3),
            "pings_per_incident": round(self.pings / max(1, self.final_predictions), 2),
            "fault_to_exact_p50_s": _rounded(percentile(self.to_exact_s, 0.5)),
            "fault_to_exact_p90_s": _rounded(percentile(self.to_exact_s, 0.9)),
            "detectable": self.detectable,
            "scenarios": self.scenarios,
        }


def _rounded(value: float) -> float | None:
    return round(value, 1) if value == value else None  # NaN when nothing was exact


@dataclass
class _HeadEnd:
    """The simulated head-end and the engine's bookkeeping of what it asked."""

    out_since: dict[str, float]
    """Account -> when its supply was lost: a meter answers "off" only from then on."""
    rng: random.Random
    policy: PingPolicy
    asked: set[str] = field(default_factory=set)
    pending: set[str] = field(default_factory=set)
    spent: Counter[str] = field(default_factory=Counter)
    sent: int = 0

    def ask(self, now: float, key: str, accounts: Sequence[str]) -> list[tuple[float, str]]:
        """Send pings; the answers that will come back, as (time, account)."""
        self.spent[key] += len(accounts)
        self.sent += len(accounts)
        answers = []
        for account in accounts:
            self.asked.add(account)
            self.pending.add(account)
            answers.append((now + self.rng.uniform(*PING_LATENCY_S), account))
        return answers

    def answer(self, account: str, now: float) -> EvidenceKind | None:
        """The meter's answer, or None when it was lost (it is not asked again)."""
        self.pending.discard(account)
        if self.rng.random() < PING_LOSS:
            return None
        out = self.out_since.get(account, now + 1) <= now
        return EvidenceKind.LAST_GASP if out else EvidenceKind.LIVE


def play(
    topology: Topology,
    faults: Sequence[Fault],
    events: Sequence[SimEvent],
    rng: random.Random,
    *,
    pinged: bool,
) -> tuple[list[Prediction], dict[str, float], int]:
    """Run one scenario in simulated time: the final predictions, when each fault's device
    was predicted for good (seconds), and the pings sent."""
    policy = PingPolicy(loss=PING_LOSS)
    starts = {account: start for account, (start, _) in outage_starts(faults).items()}
    meters = _HeadEnd(starts, rng, policy)
    kinds: dict[str, set[EvidenceKind]] = defaultdict(set)
    queue: list[tuple[float, int, str, EvidenceKind | None]] = [
        (e.time_s, i, e.account, e.kind) for i, e in enumerate(events)
    ]
    heapq.heapify(queue)
    order = len(queue)
    since: dict[str, float | None] = {f.device: None for f in faults}
    predictions: list[Prediction] = []
    while queue:
        now, _, account, kind = heapq.heappop(queue)
        if kind is None:  # a ping's answer, or its loss: either way the engine looks again
            kind = meters.answer(account, now)
            if kind is EvidenceKind.LIVE:
                kinds[account].discard(EvidenceKind.CALL)
        if kind is not None:
            kinds[account].add(kind)
        evidence = [Evidence(a, k) for a, found in kinds.items() for k in found]
        inference = infer(topology, evidence)
        predictions = inference.predictions
        named = {p.device for p in predictions}
        for device, at in since.items():
            if device not in named:
                since[device] = None
            elif at is None:
                since[device] = now
        if not pinged:
            continue
        for prediction in predictions:
            accounts = choose_pings(
                inference.rivals(prediction),
                pingable=lambda _: True,
                asked=meters.asked,
                pending=meters.pending,
                spent=meters.spent[prediction.device],
                policy=policy,
            )
            for at, pinged_account in meters.ask(now, prediction.device, accounts):
                order += 1
                heapq.heappush(queue, (at, order, pinged_account, None))
    starts = {f.device: f.start_s for f in faults}
    exact_at = {d: at - starts[d] for d, at in since.items() if at is not None}
    return predictions, exact_at, meters.sent


def score(
    grid: "Grid",
    faults: Sequence[Fault],
    events: Sequence[SimEvent],
    tally: AmiTally,
    rng: random.Random,
    *,
    pinged: bool,
) -> None:
    """Play a scenario and add its figures to the tally."""
    predictions, exact_at, sent = play(grid.topology, faults, events, rng, pinged=pinged)
    heard = {e.fault for e in events if e.fault is not None}
    noise = {e.account for e in events if e.is_noise}

    def hits(prediction: Prediction, fault: str) -> bool:
        return grid.near(prediction.device, fault, service=prediction.kind == SERVICE)

    tally.scenarios += 1
    tally.pings += sent
    tally.final_predictions += len(predictions)
    for fault in faults:
        if fault.device not in heard:
            continue
        tally.detectable += 1
        if fault.device in exact_at:
            tally.exact += 1
            tally.to_exact_s.append(exact_at[fault.device])
        tally.within_one_hop += any(hits(p, fault.device) for p in predictions)
    tally.false_incidents += sum(
        1 for p in predictions if not any(hits(p, f.device) for f in faults)
    )
    tally.false_service += sum(1 for p in predictions if p.kind == SERVICE and p.device in noise)


def rows(
    grid: "Grid", storms: Sequence[Sequence[Fault]], noise: float, progress: Progress
) -> list[dict[str, Any]]:
    """Both ways at each call rate, on the same faults and calls."""
    found = []
    for call_rate in CALL_RATES:
        for pinged in (False, True):
            stage = f"predict ami: {grid.name} p={call_rate}{' pings' if pinged else ''}"
            tally = AmiTally()
            for i, faults in enumerate(storms):
                progress(stage, i, len(storms))
                seed = f"{grid.name}/{i}/{call_rate}"
                events = simulate_evidence(
                    grid.topology, faults, random.Random(seed), call_rate=call_rate, noise=noise
                )
                score(grid, faults, events, tally, random.Random(f"{seed}/meters"), pinged=pinged)
            progress(stage, len(storms), len(storms))
            found.append({"grid": grid.name, **tally.figures(call_rate, pinged)})
    return found


def summary(table: list[dict[str, Any]]) -> dict[str, Any]:
    """The headline: the first grid's lowest call rate with pings, against it without."""
    first = [r for r in table if r["grid"] == table[0]["grid"]]
    low = min(r["call_rate"] for r in first)
    with_pings = next(r for r in first if r["call_rate"] == low and r["pings"])
    without = next(r for r in first if r["call_rate"] == low and not r["pings"])
    return {
        "call_rate": low,
        "exact": with_pings["exact"],
        "exact_without_pings": without["exact"],
        "pings_per_incident": with_pings["pings_per_incident"],
        "false_service_per_scenario": with_pings["false_service_per_scenario"],
        "false_service_without_pings": without["false_service_per_scenario"],
        "fault_to_exact_p50_s": with_pings["fault_to_exact_p50_s"],
        "table": table,
    }
