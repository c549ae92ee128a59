"""The restoration planner on small hand-made feeders.

Feeder A runs from breaker BR-A through sections a1 .. a5, each a line between two
load-break switches; customer "a<i>" is at node a<i>. Feeders B and C are single sections
whose ends meet A's far end (a5) and its middle (a3) through normally open ties:

    SRC -BR-A- a0 -L- a1 -S1- a2 -L- a3 -S3- a4 -L- a5 -TB- b1 -L- b0 -BR-B- SRC
                                     |
                                     TC - c1 -L- c0 -BR-C- SRC
"""

from dataclasses import replace

import pytest

from grid_topology.model import DeviceKind
from grid_topology.restoration import (
    Crews,
    GridData,
    Incident,
    Options,
    Plan,
    locate_fault,
    plan_restoration,
    sections,
)
from grid_topology.topology import Link, Network, Topology

SWITCH, LINE, BREAKER = DeviceKind.SWITCH, DeviceKind.LINE, DeviceKind.BREAKER
LINKS = [
    Link("BR-A", BREAKER, "SRC", "a0"),
    Link("LA0", LINE, "a0", "a1"),
    Link("S1", SWITCH, "a1", "a2x"),
    Link("LA2", LINE, "a2x", "a2"),
    Link("S2", SWITCH, "a2", "a3x"),
    Link("LA3", LINE, "a3x", "a3"),
    Link("S3", SWITCH, "a3", "a4x"),
    Link("LA4", LINE, "a4x", "a4"),
    Link("S4", SWITCH, "a4", "a5x"),
    Link("LA5", LINE, "a5x", "a5"),
    Link("TB", SWITCH, "a5", "b1", is_open=True),
    Link("LB", LINE, "b0", "b1"),
    Link("BR-B", BREAKER, "SRC", "b0"),
    Link("TC", SWITCH, "a3", "c1", is_open=True),
    Link("LC", LINE, "c0", "c1"),
    Link("BR-C", BREAKER, "SRC", "c0"),
]
ACCOUNTS = {node: (node,) for node in ("a1", "a2", "a3", "a4", "a5", "b1", "c1")}
LOADS: dict[str, complex] = {node: 100 + 0j for node in ACCOUNTS}
ALL_REMOTE = frozenset(link.asset_ref for link in LINKS)


def topology(*, without_c: bool = False) -> Topology:
    links = [link for link in LINKS if not (without_c and link.asset_ref in ("TC", "LC", "BR-C"))]
    return Topology(Network({link.asset_ref: link for link in links}, frozenset({"SRC"}), ACCOUNTS))


def data(**ratings: float) -> GridData:
    return GridData(loads=LOADS, ratings=ratings, remote=ALL_REMOTE)


def best(
    topo: Topology, incident: Incident, grid: GridData, options: Options | None = None
) -> Plan:
    plans = plan_restoration(topo, incident, grid, options)
    assert all(plan.radial for plan in plans)
    return plans[0]


def steps(plan: Plan) -> list[tuple[str, bool]]:
    return [(step.asset_ref, step.open) for step in plan.steps]


def test_a_section_is_bounded_by_switchable_devices() -> None:
    assert sections(topology(), ["a2"]) == {"a2", "a2x"}


def test_one_tie_feeds_the_sections_below_the_fault() -> None:
    plan = best(topology(without_c=True), Incident(frozenset({"a2"}), ("BR-A",)), data())
    assert plan.unsupplied == {"a2"}
    assert plan.restored == {"a1", "a3", "a4", "a5"}
    assert set(steps(plan)) == {("S1", True), ("S2", True), ("BR-A", False), ("TB", False)}
    assert plan.peak_loading == 0


def test_the_upstream_device_recloses_only_once_the_fault_is_cut_off() -> None:
    plan = best(topology(without_c=True), Incident(frozenset({"a2"}), ("BR-A",)), data())
    order = [asset_ref for asset_ref, _ in steps(plan)]
    assert order.index("S1") < order.index("BR-A")
    assert order.index("S2") < order.index("TB")


def test_a_tie_that_would_overload_its_feeder_stays_open() -> None:
    grid = data(LB=350.0)  # B carries b1 (100) and could take 250 more, not a3..a5 (300)
    incident = Incident(frozenset({"a2"}), ("BR-A",))
    plan = best(topology(without_c=True), incident, grid, Options(max_cuts=0))
    assert ("TB", False) not in steps(plan)
    assert plan.unsupplied == {"a2", "a3", "a4", "a5"}


def test_the_tripped_device_carries_only_what_it_feeds_again() -> None:
    grid = data(**{"BR-A": 350.0})  # 500 before the fault; a1 .. a3 (300) fit on their own
    plan = best(topology(without_c=True), Incident(frozenset({"a4"}), ("BR-A",)), grid)
    assert {"a1", "a2", "a3"} <= plan.restored
    assert plan.peak_loading <= 1


def test_a_tie_feeds_what_it_can_carry_and_the_rest_stays_out() -> None:
    grid = data(LB=350.0)  # room for a4 and a5 (200), not a3 as well
    plan = best(topology(without_c=True), Incident(frozenset({"a2"}), ("BR-A",)), grid)
    assert plan.unsupplied == {"a2", "a3"}
    order = steps(plan)
    assert order.index(("S3", True)) < order.index(("TB", False))
    assert plan.peak_loading <= 1


def test_two_ties_leaning_on_one_element_are_checked_together() -> None:
    links = [replace(link, from_node="b0") if link.asset_ref == "BR-C" else link for link in LINKS]
    network = Network({link.asset_ref: link for link in links}, frozenset({"SRC"}), ACCOUNTS)
    grid = data(**{"BR-B": 380.0})  # B and C both through BR-B: room for one section
    plan = best(Topology(network), Incident(frozenset({"a2"}), ("BR-A",)), grid)
    assert len(plan.restored - {"a1"}) == 1
    assert plan.peak_loading <= 1


def test_an_island_too_big_for_one_tie_is_split_between_two() -> None:
    grid = data(LB=350.0, LC=350.0)  # each of B and C may take 250: two sections of three
    plan = best(topology(), Incident(frozenset({"a2"}), ("BR-A",)), grid)
    assert plan.unsupplied == {"a2"}
    assert ("S3", True) in steps(plan) or ("S4", True) in steps(plan)
    assert ("TB", False) in steps(plan) and ("TC", False) in steps(plan)
    assert plan.peak_loading <= 1


def test_without_splitting_only_one_tie_can_help() -> None:
    grid = data(LB=350.0, LC=350.0)
    plan = best(topology(), Incident(frozenset({"a2"}), ("BR-A",)), grid, Options(max_cuts=0))
    assert plan.unsupplied == {"a2", "a3", "a4", "a5"}


def test_a_section_with_a_hazard_is_not_reenergized() -> None:
    incident = Incident(frozenset({"a2"}), ("BR-A",), hazards=frozenset({"a4"}))
    plan = best(topology(without_c=True), incident, data())
    assert plan.unsupplied == {"a2", "a3", "a4"}  # a3 lies between the two, with no tie
    assert plan.restored == {"a1", "a5"}


def test_critical_customers_come_back_first() -> None:
    remote = frozenset({"BR-A", "TB", "TC"})
    grid = replace(data(), remote=remote, critical=frozenset({"a5"}))
    incident = Incident(frozenset({"a3"}), ("BR-A",))
    plan = best(topology(), incident, grid)
    closings = [step for step in plan.steps if not step.open]
    assert "a5" in closings[0].restored
    assert plan.unsupplied == {"a3"}


def crews_at(**places: tuple[float, float]) -> Crews:
    """Two crews at 0 and 1000 on a line; a second of driving per unit of distance."""
    return Crews(
        starts=((0.0, 0.0), (1000.0, 0.0)),
        place=places.get,
        travel=lambda a, b: abs(a[0] - b[0]) + abs(a[1] - b[1]),
        operate_seconds=600.0,
        word_seconds=60.0,
    )


def test_the_crew_nearest_a_manual_device_goes_there() -> None:
    grid = replace(data(), remote=frozenset({"BR-A", "TB"}))
    options = Options(crews=crews_at(S1=(500.0, 0.0), S2=(900.0, 0.0)))
    plan = best(topology(without_c=True), Incident(frozenset({"a2"}), ("BR-A",)), grid, options)
    first = plan.steps[0]  # the part below the fault, three customers, comes first
    assert (first.asset_ref, first.at_seconds) == ("S2", 100 + 600)  # the crew at 1000


def test_a_second_crew_gets_ready_while_the_first_operates() -> None:
    grid = replace(data(), remote=frozenset({"BR-A", "TB"}))
    options = Options(crews=crews_at(S1=(0.0, 0.0), S2=(1000.0, 0.0)))
    plan = best(topology(without_c=True), Incident(frozenset({"a2"}), ("BR-A",)), grid, options)
    manual = [step.at_seconds for step in plan.steps if step.asset_ref in ("S1", "S2")]
    # S2 by the crew at 1000, the tie by remote 30 s later, S1 on the word 60 s after that
    assert manual == [600, 690]


def test_one_crew_does_the_manual_steps_in_turn() -> None:
    grid = replace(data(), remote=frozenset({"BR-A", "TB"}))
    alone = Crews(
        starts=((0.0, 0.0),),
        place={"S1": (0.0, 0.0), "S2": (1000.0, 0.0)}.get,
        travel=lambda a, b: abs(a[0] - b[0]),
        operate_seconds=600.0,
    )
    plan = best(
        topology(without_c=True), Incident(frozenset({"a2"}), ("BR-A",)), grid, Options(crews=alone)
    )
    manual = [step.at_seconds for step in plan.steps if step.asset_ref in ("S2", "S1")]
    assert manual == [1000 + 600, 1000 + 600 + 1000 + 600]  # S2 first, then back to S1


def test_remote_steps_restore_before_manual_ones() -> None:
    grid = replace(data(), remote=frozenset({"BR-A", "S1"}))
    plan = best(topology(without_c=True), Incident(frozenset({"a2"}), ("BR-A",)), grid)
    [upstream] = [step for step in plan.steps if step.asset_ref == "BR-A"]
    assert upstream.at_seconds == 60  # S1 then BR-A, both remote
    assert plan.steps[-1].at_seconds > 3600
    assert plan.customer_minutes_saved > 0


def test_a_fault_right_below_the_breaker_leaves_it_open() -> None:
    plan = best(topology(without_c=True), Incident(frozenset({"a0"}), ("BR-A",)), data())
    assert ("BR-A", False) not in steps(plan)
    assert plan.unsupplied == {"a1"}


def test_no_step_closes_a_loop() -> None:
    for faulted in ("a1", "a2", "a3", "a4", "a5"):
        for plan in plan_restoration(topology(), Incident(frozenset({faulted}), ("BR-A",)), data()):
            assert plan.radial


@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        ({}, {"a0", "a1", "a2x", "a2", "a3x", "a3", "a4x", "a4", "a5x", "a5"}),
        ({"fault_passed": ["S2"], "no_fault_passed": ["S3"]}, {"a3x", "a3"}),
        ({"found": ["a4"]}, {"a4x", "a4"}),
        ({"healthy": ["a1"], "fault_passed": ["S3"]}, {"a4x", "a4", "a5x", "a5"}),
    ],
)
def test_the_fault_is_located_from_the_evidence(
    evidence: dict[str, list[str]], expected: set[str]
) -> None:
    assert locate_fault(topology(), "BR-A", **evidence) == expected


CHAIN = [
    Link("BR-A", BREAKER, "SRC", "a0"),
    Link("LA1", LINE, "a0", "a1"),
    Link("S1", SWITCH, "a1", "a2"),
    Link("LA2", LINE, "a2", "a3"),
    Link("TB", SWITCH, "a3", "b1", is_open=True),
    Link("LB", LINE, "b0", "b1"),
    Link("BR-B", BREAKER, "SRC", "b0"),
    Link("BR-D", BREAKER, "SRC", "d0"),
    Link("LD1", LINE, "d0", "d1"),
    Link("S2", SWITCH, "d1", "d2"),
    Link("LD2", LINE, "d2", "d3"),
    Link("T12", SWITCH, "a3", "d3", is_open=True),
]
"""Two feeders faulted at once (a1 and d1): d2 .. d3 touches no live feeder, only the
dead a2 .. a3 through T12, and a2 .. a3 touches feeder B through TB."""
CHAIN_ACCOUNTS = {node: (node,) for node in ("a2", "a3", "d2", "d3", "b1")}


def chained(**ratings: float) -> tuple[Topology, GridData, Incident]:
    network = Network({link.asset_ref: link for link in CHAIN}, frozenset({"SRC"}), CHAIN_ACCOUNTS)
    grid = GridData(
        loads={node: 100 + 0j for node in CHAIN_ACCOUNTS},
        ratings=ratings,
        remote=frozenset(link.asset_ref for link in CHAIN),
    )
    return Topology(network), grid, Incident(frozenset({"a1", "d1"}), ("BR-A", "BR-D"))


def test_a_piece_with_no_tie_of_its_own_is_fed_through_a_neighbour_fed_first() -> None:
    topo, grid, incident = chained()
    plan = best(topo, incident, grid)
    assert plan.restored == {"a2", "a3", "d2", "d3"}
    order = steps(plan)
    assert order.index(("TB", False)) < order.index(("T12", False))
    assert order.index(("S2", True)) < order.index(("T12", False))
    [chain] = [step for step in plan.steps if step.asset_ref == "T12"]
    assert chain.restored == {"d2", "d3"}


def test_a_chain_the_neighbouring_feeder_cannot_carry_stays_open() -> None:
    topo, grid, incident = chained(LB=350.0)  # b1 and a2 .. a3 fit, d2 .. d3 as well do not
    plan = best(topo, incident, grid)
    assert plan.restored == {"a2", "a3"}
    assert ("T12", False) not in steps(plan)
    assert plan.peak_loading <= 1
