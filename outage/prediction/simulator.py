"""Simulated storms: faults at protective devices and the evidence customers send about them.

Pure and seeded: every random draw comes from the `random.Random` the caller passes, so a
scenario is reproduced from its seed. The prediction benchmark runs on it.

How customers behave (the parameters are module constants, so a reader can argue with them):

- A customer whose supply is lost calls with probability `call_rate`, once, after a delay
  drawn from a log-normal distribution with a median of 6 minutes and sigma 1.0 (in log
  seconds): a quarter call within 3 minutes, 95% within 31 minutes, 99% within an hour.
  That is the usual shape of call-centre arrival curves after an interruption: a quick
  first wave, then a long tail of customers who come home or wait before calling.
- Noise calls come from customers who are NOT out (a local problem, a wrong guess, a
  neighbour's outage): their number is `noise` times the number of real calls (rounded
  at random to keep the expectation exact), at random times over the same period.
- A `meter_share` of the affected customers have smart meters that send a last gasp a few
  seconds after the supply is lost; each gasp is lost on the way with `meter_loss`.
"""

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from grid_topology.model import PROTECTIVE_KINDS, DeviceKind
from grid_topology.topology import Topology, devices_of_kinds
from outage.prediction.inference import EvidenceKind

CALL_DELAY_MEDIAN_S = 360.0
"""Median time from losing supply to calling: 6 minutes."""
CALL_DELAY_SIGMA = 1.0
"""Spread of the log-normal call delay, in log seconds."""
LAST_GASP_DELAY_S = (1.0, 10.0)
"""A meter's last gasp reaches the head-end within these many seconds of the fault."""
FAULT_WINDOW_S = 1800.0
"""Faults of one storm start within this window (30 minutes) unless told otherwise."""


@dataclass(frozen=True)
class Fault:
    device: str
    """asset_ref of the protective device that opened."""
    kind: DeviceKind
    start_s: float
    accounts: frozenset[str]
    """Customers downstream of the device: out while it is open."""
    parent: str | None = None
    """For a nested fault, the fault whose area holds it: these customers stay out after
    the parent is restored."""


@dataclass(frozen=True)
class SimEvent:
    time_s: float
    account: str
    kind: EvidenceKind
    is_noise: bool = False
    fault: str | None = None
    """The device of the fault that put this customer out first; None for noise."""


def fault_candidates(topology: Topology) -> list[str]:
    """Energized protective devices with customers downstream, one per distinct outage area.

    Devices in series with exactly the same customers downstream (a transformer's HV-side
    breaker and its busbar breaker, say) are the same outage to anyone but SCADA; of each
    such group only the lowest one is a candidate, since coordinated protection opens the
    device nearest the fault.
    """
    counts = topology.customer_counts()
    lowest: dict[frozenset[str], tuple[int, str]] = {}
    for ref in sorted(devices_of_kinds(topology.network.links, PROTECTIVE_KINDS)):
        if counts.get(ref, 0) == 0:
            continue
        accounts = topology.downstream(ref).accounts
        depth = len(topology.upstream(ref).devices)
        if accounts not in lowest or depth > lowest[accounts][0]:
            lowest[accounts] = (depth, ref)
    return sorted(ref for _, ref in lowest.values())


def inject_faults(
    topology: Topology,
    rng: random.Random,
    count: int,
    *,
    candidates: Iterable[str] | None = None,
    nested_share: float = 0.0,
    window_s: float = FAULT_WINDOW_S,
) -> list[Fault]:
    """`count` faults at distinct devices, at most fewer when the candidates run out.

    Top-level faults have disjoint areas; `nested_share` of the faults (rounded) are placed
    inside the area of a top-level fault instead, disjoint from each other. Devices with no
    customers downstream or not energized are skipped. Start times are uniform in
    [0, window_s).
    """
    links = topology.network.links
    pool = sorted(fault_candidates(topology) if candidates is None else set(candidates))
    pool = [ref for ref in pool if ref in links and links[ref].is_protective]
    rng.shuffle(pool)
    areas: dict[str, frozenset[str]] = {}

    def area(ref: str) -> frozenset[str]:
        if ref not in areas:
            areas[ref] = topology.downstream(ref).accounts
        return areas[ref]

    nested_count = min(count, round(count * nested_share))
    top: list[str] = []
    taken: set[str] = set()
    for ref in pool:
        if len(top) == count - nested_count:
            break
        if area(ref) and taken.isdisjoint(area(ref)):
            top.append(ref)
            taken |= area(ref)
    inside = {device: parent for parent in top for device in topology.downstream(parent).devices}
    nested: list[tuple[str, str]] = []
    nested_taken: set[str] = set()
    for ref in pool:
        if len(nested) == nested_count:
            break
        parent = inside.get(ref)
        if parent is not None and area(ref) and nested_taken.isdisjoint(area(ref)):
            nested.append((ref, parent))
            nested_taken |= area(ref)
    placed = [(ref, None) for ref in top] + nested
    return [
        Fault(
            device=ref,
            kind=links[ref].kind,
            start_s=rng.uniform(0.0, window_s),
            accounts=area(ref),
            parent=parent,
        )
        for ref, parent in placed
    ]


def call_delay_s(rng: random.Random) -> float:
    """Seconds from losing supply to calling (log-normal, see the module docstring)."""
    return rng.lognormvariate(math.log(CALL_DELAY_MEDIAN_S), CALL_DELAY_SIGMA)


def outage_starts(faults: Sequence[Fault]) -> dict[str, tuple[float, str]]:
    """Account -> (when it lost supply, the device that took it out first)."""
    out: dict[str, tuple[float, str]] = {}
    # Outer faults first, so a nested fault starting at the same moment defers to its parent.
    for fault in sorted(faults, key=lambda f: (f.start_s, f.parent is not None, f.device)):
        for account in sorted(fault.accounts):
            out.setdefault(account, (fault.start_s, fault.device))
    return out


def _stochastic_round(value: float, rng: random.Random) -> int:
    whole = math.floor(value)
    return whole + (rng.random() < value - whole)


def simulate_evidence(
    topology: Topology,
    faults: Sequence[Fault],
    rng: random.Random,
    *,
    call_rate: float,
    noise: float,
    meter_share: float = 0.0,
    meter_loss: float = 0.1,
) -> list[SimEvent]:
    """Calls, noise calls and last gasps caused by `faults`, in time order."""
    out = outage_starts(faults)
    events: list[SimEvent] = []
    for account, (start, device) in sorted(out.items()):
        if rng.random() < call_rate:
            events.append(
                SimEvent(start + call_delay_s(rng), account, EvidenceKind.CALL, fault=device)
            )
        if rng.random() < meter_share and rng.random() >= meter_loss:
            delay = rng.uniform(*LAST_GASP_DELAY_S)
            events.append(SimEvent(start + delay, account, EvidenceKind.LAST_GASP, fault=device))
    real_calls = [e for e in events if e.kind is EvidenceKind.CALL]
    noise_count = _stochastic_round(noise * len(real_calls), rng)
    if noise_count:
        live = sorted(
            account
            for node, accounts in topology.network.accounts_at.items()
            if topology.is_energized(node)
            for account in accounts
            if account not in out
        )
        begin = min(f.start_s for f in faults)
        end = max(e.time_s for e in real_calls)
        events.extend(
            SimEvent(rng.uniform(begin, end), account, EvidenceKind.CALL, is_noise=True)
            for account in rng.sample(live, min(noise_count, len(live)))
        )
    events.sort(key=lambda e: (e.time_s, e.account, e.kind))
    return events
