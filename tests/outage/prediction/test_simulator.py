"""Simulated storms on a hand-built network.

S =B0= s =B= n0 -L- n1 =F1..F8= t1..t8 (20 customers each)
                         t_i =G_i= u_i (5 of its own customers, nested under F_i)
B0 and B have the same customers: only the lower one, B, is a fault candidate.
"""

import random
import statistics

import pytest

from grid_topology.model import DeviceKind
from grid_topology.topology import Link, Network, Topology
from outage.prediction.inference import EvidenceKind
from outage.prediction.simulator import (
    CALL_DELAY_MEDIAN_S,
    Fault,
    SimEvent,
    call_delay_s,
    fault_candidates,
    inject_faults,
    simulate_evidence,
)

K = DeviceKind
FEEDERS = 8


@pytest.fixture(scope="module")
def grid() -> Topology:
    links = [Link("B0", K.BREAKER, "S", "s"), Link("B", K.BREAKER, "s", "n0")]
    links.append(Link("L", K.LINE, "n0", "n1"))
    accounts: dict[str, tuple[str, ...]] = {}
    for i in range(1, FEEDERS + 1):
        links.append(Link(f"F{i}", K.FUSE, "n1", f"t{i}"))
        links.append(Link(f"G{i}", K.FUSE, f"t{i}", f"u{i}"))
        accounts[f"t{i}"] = tuple(f"t{i}-{j}" for j in range(20))
        accounts[f"u{i}"] = tuple(f"u{i}-{j}" for j in range(5))
    links.append(Link("EMPTY", K.FUSE, "n1", "nobody"))
    return Topology(
        Network(
            links={link.asset_ref: link for link in links},
            sources=frozenset({"S"}),
            accounts_at=accounts,
        )
    )


def _storm(grid: Topology, seed: int, **evidence: float) -> tuple[list[Fault], list[SimEvent]]:
    rng = random.Random(seed)
    faults = inject_faults(grid, rng, 3)
    options = {"call_rate": 0.3, "noise": 0.05, **evidence}
    return faults, simulate_evidence(grid, faults, rng, **options)


def test_candidates_skip_empty_devices_and_keep_the_lowest_of_equal_ones(
    grid: Topology,
) -> None:
    candidates = fault_candidates(grid)
    assert "B" in candidates
    assert "B0" not in candidates
    assert "EMPTY" not in candidates
    assert len(candidates) == 1 + 2 * FEEDERS


def test_same_seed_same_storm(grid: Topology) -> None:
    assert _storm(grid, 7) == _storm(grid, 7)
    assert _storm(grid, 7) != _storm(grid, 8)


def test_faults_do_not_overlap(grid: Topology) -> None:
    for seed in range(50):
        faults = inject_faults(grid, random.Random(seed), 4)
        assert len(faults) >= 1
        taken: set[str] = set()
        for fault in faults:
            assert fault.parent is None
            assert fault.accounts == grid.downstream(fault.device).accounts
            assert taken.isdisjoint(fault.accounts)
            taken |= fault.accounts


def test_faults_at_the_given_candidates_only(grid: Topology) -> None:
    faults = inject_faults(grid, random.Random(1), 10, candidates=["F1", "F2", "EMPTY"])
    assert sorted(f.device for f in faults) == ["F1", "F2"]
    assert all(f.kind is K.FUSE for f in faults)


def test_nested_faults_lie_inside_their_parent(grid: Topology) -> None:
    candidates = [f"F{i}" for i in range(1, FEEDERS + 1)] + [f"G{i}" for i in range(1, FEEDERS + 1)]
    nested_count = 0
    for seed in range(30):
        faults = inject_faults(
            grid, random.Random(seed), 6, candidates=candidates, nested_share=0.5
        )
        by_device = {f.device: f for f in faults}
        nested = [(f, f.parent) for f in faults if f.parent is not None]
        nested_count += len(nested)
        for fault, parent_device in nested:
            parent = by_device[parent_device]
            assert parent.parent is None
            assert fault.accounts < parent.accounts
            assert parent.device in grid.upstream(fault.device).devices
    assert nested_count > 40


def test_calls_come_from_affected_customers_unless_noise(grid: Topology) -> None:
    for seed in range(20):
        faults, events = _storm(grid, seed)
        out = {a: f for f in faults for a in f.accounts}
        assert events == sorted(events, key=lambda e: e.time_s)
        for event in events:
            if event.is_noise:
                assert event.account not in out
                assert event.fault is None
            else:
                assert event.fault == out[event.account].device
                assert event.time_s > out[event.account].start_s


def test_each_customer_calls_at_most_once(grid: Topology) -> None:
    _, events = _storm(grid, 3, call_rate=1.0)
    calls = [e.account for e in events if e.kind is EvidenceKind.CALL]
    assert len(calls) == len(set(calls))


def test_noise_is_the_asked_share_of_real_calls(grid: Topology) -> None:
    real = noise = 0
    for seed in range(300):
        _, events = _storm(grid, seed, noise=0.1)
        noise += sum(e.is_noise for e in events)
        real += sum(not e.is_noise for e in events)
    assert noise / real == pytest.approx(0.1, abs=0.02)


def test_noise_calls_fall_within_the_storm(grid: Topology) -> None:
    for seed in range(20):
        faults, events = _storm(grid, seed, noise=0.5)
        real = [e.time_s for e in events if not e.is_noise]
        for event in events:
            if event.is_noise:
                assert min(f.start_s for f in faults) <= event.time_s <= max(real)


def test_call_delays_are_positive_and_plausible() -> None:
    rng = random.Random(0)
    delays = sorted(call_delay_s(rng) for _ in range(20000))
    assert delays[0] > 0
    assert statistics.median(delays) == pytest.approx(CALL_DELAY_MEDIAN_S, rel=0.05)
    assert 25 * 60 < delays[int(0.95 * len(delays))] < 40 * 60
    assert 45 * 60 < delays[int(0.99 * len(delays))] < 80 * 60


def test_last_gasps_arrive_seconds_after_the_fault(grid: Topology) -> None:
    faults, events = _storm(grid, 5, call_rate=0.0, noise=0.0, meter_share=1.0, meter_loss=0.0)
    affected = set().union(*(f.accounts for f in faults))
    start = {a: f.start_s for f in faults for a in f.accounts}
    assert {e.account for e in events} == affected
    for event in events:
        assert event.kind is EvidenceKind.LAST_GASP
        assert 0 < event.time_s - start[event.account] <= 10


def test_lost_last_gasps(grid: Topology) -> None:
    sent = lost = 0
    for seed in range(20):
        faults, events = _storm(
            grid, seed, call_rate=0.0, noise=0.0, meter_share=1.0, meter_loss=0.3
        )
        sent += sum(len(f.accounts) for f in faults)
        lost += sum(len(f.accounts) for f in faults) - len(events)
    assert lost / sent == pytest.approx(0.3, abs=0.05)


def test_no_calls_no_noise(grid: Topology) -> None:
    _, events = _storm(grid, 2, call_rate=0.0, noise=1.0)
    assert events == []
