"""The transfer planner: which tie and isolating switch give supply back after a fault."""

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Link, Network, Topology
from outage.simulation.transfer import plan_transfer


def feeders(*extra: Link) -> Topology:
    """Feeder A: S -B- a1 -L1- a2 -SW1- a3 -L2- a4; feeder B: T -B2- b1 -L3- b2.

    Customers at a2 (in front of SW1), a4 and b2; `extra` adds ties and branches.
    """
    links = [
        Link("B", DeviceKind.BREAKER, "S", "a1"),
        Link("L1", DeviceKind.LINE, "a1", "a2"),
        Link("SW1", DeviceKind.SWITCH, "a2", "a3"),
        Link("L2", DeviceKind.LINE, "a3", "a4"),
        Link("B2", DeviceKind.BREAKER, "T", "b1"),
        Link("L3", DeviceKind.LINE, "b1", "b2"),
        *extra,
    ]
    return Topology(
        Network(
            links={link.asset_ref: link for link in links},
            sources=frozenset({"S", "T"}),
            accounts_at={"a2": ("front",), "a4": ("beyond",), "b2": ("neighbour",), "d1": ("d",)},
        )
    )


TIE = Link("TIE", DeviceKind.SWITCH, "a4", "b2", is_open=True)


def test_the_switch_nearest_the_fault_isolates_it_and_the_tie_feeds_what_lies_beyond() -> None:
    plan = plan_transfer(feeders(TIE), "B")
    assert plan is not None
    assert (plan.isolating_switch, plan.tie) == ("SW1", "TIE")
    assert plan.transferred == {"beyond"}
    assert plan.isolated == {"front"}


def test_without_a_tie_there_is_no_transfer() -> None:
    assert plan_transfer(feeders(), "B") is None


def test_a_tie_to_a_dead_end_is_no_transfer() -> None:
    dead = Link("TIE", DeviceKind.SWITCH, "a4", "d1", is_open=True)
    assert plan_transfer(feeders(dead), "B") is None


def test_a_tie_within_the_faulted_area_is_no_transfer() -> None:
    loop = Link("TIE", DeviceKind.SWITCH, "a4", "a2", is_open=True)
    assert plan_transfer(feeders(loop), "B") is None


def test_without_a_switch_below_the_fault_nothing_can_be_isolated() -> None:
    tie = Link("TIE", DeviceKind.SWITCH, "a2", "b2", is_open=True)
    assert plan_transfer(feeders(tie), "B") is None


def test_of_two_ties_the_one_that_feeds_more_customers_again_is_chosen() -> None:
    branch = (
        Link("SW2", DeviceKind.DISCONNECTOR, "a2", "c1"),
        Link("L4", DeviceKind.LINE, "c1", "c2"),
        Link("TIE2", DeviceKind.SWITCH, "c2", "b2", is_open=True),
    )
    network = feeders(TIE, *branch).network
    more = Network(
        links=network.links,
        sources=network.sources,
        accounts_at={**network.accounts_at, "c2": ("c1", "c2", "c3")},
    )
    plan = plan_transfer(Topology(more), "B")
    assert plan is not None
    assert (plan.isolating_switch, plan.tie) == ("SW2", "TIE2")
    assert plan.transferred == {"c1", "c2", "c3"}


def test_on_the_sample_grid_a_feeder_head_transfers_through_the_tie_to_its_neighbour(
    sample_grid: GridModel,
) -> None:
    topology = Topology(Network.from_model(sample_grid))
    plan = plan_transfer(topology, "MV3.101 Switch 12")
    assert plan is not None
    assert plan.tie == "MV3.101 loop_line_switch 1.2"
    assert plan.isolating_switch == "MV3.101 Switch 13"
    after = topology.switched(
        {"MV3.101 Switch 12": True, plan.isolating_switch: True, plan.tie: False}
    )
    assert plan.transferred <= after.downstream("MV3.101 Switch 42").accounts
    assert plan.transferred | plan.isolated == topology.downstream("MV3.101 Switch 12").accounts
