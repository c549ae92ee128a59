"""Tracing on a tiny hand-built feeder.

S =B1= n1 -L1- n2 =F1= n3 -T1- n4 (A1, A2)
                |
                +-L2- n5 =F2= n6 -T2- n7 (A3)
n4 -TIE (normally open)- n7
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grid_topology.model import DeviceKind
from grid_topology.topology import Link, Network, Topology

K = DeviceKind


@pytest.fixture
def feeder() -> Network:
    links = [
        Link("B1", K.BREAKER, "S", "n1"),
        Link("L1", K.LINE, "n1", "n2"),
        Link("F1", K.FUSE, "n2", "n3"),
        Link("T1", K.TRANSFORMER, "n3", "n4"),
        Link("L2", K.LINE, "n2", "n5"),
        Link("F2", K.FUSE, "n5", "n6"),
        Link("T2", K.TRANSFORMER, "n6", "n7"),
        Link("TIE", K.SWITCH, "n4", "n7", is_open=True),
    ]
    return Network(
        links={link.asset_ref: link for link in links},
        sources=frozenset({"S"}),
        accounts_at={"n4": ("A1", "A2"), "n7": ("A3",)},
    )


def test_breaker_supplies_every_customer(feeder: Network) -> None:
    assert Topology(feeder).downstream("B1").accounts == {"A1", "A2", "A3"}


def test_fuse_supplies_only_its_transformer(feeder: Network) -> None:
    trace = Topology(feeder).downstream("F1")
    assert trace.accounts == {"A1", "A2"}
    assert trace.nodes == {"n3", "n4"}


def test_downstream_lists_open_tie_on_the_boundary(feeder: Network) -> None:
    assert Topology(feeder).downstream("F1").devices == ("T1", "TIE")


def test_protective_chain_is_nearest_first(feeder: Network) -> None:
    assert Topology(feeder).protective_chain("n4") == ("F1", "B1")


def test_upstream_lists_every_device_to_the_source(feeder: Network) -> None:
    assert Topology(feeder).upstream("T2").devices == ("F2", "L2", "L1", "B1")


def test_switching_reorients_through_the_tie(feeder: Network) -> None:
    topology = Topology(feeder.switched(open_=["F1"], close=["TIE"]))
    assert topology.downstream("F2").accounts == {"A1", "A2", "A3"}
    assert topology.downstream("F1").accounts == frozenset()
    assert topology.protective_chain("n4") == ("F2", "B1")


def test_parallel_paths_leave_nobody_out_when_one_opens(feeder: Network) -> None:
    meshed = Topology(feeder.switched(close=["TIE"]))
    assert meshed.downstream("F1").accounts == frozenset()
    assert meshed.downstream("L1").accounts == {"A1", "A2", "A3"}


def test_open_source_breaker_deenergizes_everything(feeder: Network) -> None:
    topology = Topology(feeder.switched(open_=["B1"]))
    assert not topology.is_energized("n4")
    assert topology.downstream("B1").accounts == frozenset()


def test_customer_counts_agree_with_downstream_traces(feeder: Network) -> None:
    topology = Topology(feeder)
    counts = topology.customer_counts()
    for asset_ref in ("B1", "L1", "F1", "T1", "L2", "F2", "T2"):
        assert counts[asset_ref] == len(topology.downstream(asset_ref).accounts)


def test_nearest_upstream_assigns_each_node_to_its_transformer(feeder: Network) -> None:
    owners = Topology(feeder).nearest_upstream(["T1", "T2"])
    assert owners.nodes == {"n4": "T1", "n7": "T2"}
    assert owners.devices == {"T1": "T1", "T2": "T2"}


def test_switching_unknown_device_is_an_error(feeder: Network) -> None:
    with pytest.raises(KeyError):
        feeder.switched(open_=["nope"])


def test_switched_reorients_through_the_tie_incrementally(feeder: Network) -> None:
    topology = Topology(feeder).switched({"F1": True, "TIE": False})
    assert topology.downstream("F2").accounts == {"A1", "A2", "A3"}
    assert topology.protective_chain("n4") == ("F2", "B1")


def test_switched_carries_customer_counts_along(feeder: Network) -> None:
    topology = Topology(feeder)
    topology.customer_counts()
    counts = topology.switched({"F1": True, "TIE": False}).customer_counts()
    assert counts["F2"] == 3
    assert "F1" not in counts


def test_switched_leaves_the_original_as_it_was(feeder: Network) -> None:
    topology = Topology(feeder)
    before = _answers(topology)
    topology.switched({"F1": True, "TIE": False})
    assert _answers(topology) == before


def test_switched_network_is_the_network_switched(feeder: Network) -> None:
    switched = Topology(feeder).switched({"F1": True, "TIE": False}).network
    assert switched == feeder.switched(open_=["F1"], close=["TIE"])


def test_switched_names_an_unknown_device(feeder: Network) -> None:
    with pytest.raises(KeyError, match="nope"):
        Topology(feeder).switched({"F1": True, "nope": False})


@st.composite
def _networks(draw: st.DrawFn) -> Network:
    """A radial skeleton (its devices open or closed) with ties, meshes and parallel devices
    added, zero to two sources and a few customers on some nodes."""
    nodes = [f"n{i}" for i in range(draw(st.integers(2, 10)))]
    ends = [(nodes[draw(st.integers(0, i - 1))], nodes[i]) for i in range(1, len(nodes))]
    ends += draw(st.lists(st.tuples(st.sampled_from(nodes), st.sampled_from(nodes)), max_size=5))
    links = [
        Link(f"D{i}", draw(st.sampled_from(list(K))), a, b, is_open=draw(st.booleans()))
        for i, (a, b) in enumerate(ends)
    ]
    return Network(
        links={link.asset_ref: link for link in links},
        sources=frozenset(draw(st.sets(st.sampled_from(nodes), max_size=2))),
        accounts_at={n: tuple(f"{n}/{k}" for k in range(draw(st.integers(0, 2)))) for n in nodes},
    )


def _answers(topology: Topology) -> dict[str, object]:
    """Everything callers ask of a topology; the devices of a trace as a set, their order
    following the tree's, which may differ between equal trees."""
    links = topology.network.links
    nodes = {node for link in links.values() for node in (link.from_node, link.to_node)}
    return {
        "downstream": {
            asset_ref: (set(trace.devices), trace.nodes, trace.accounts)
            for asset_ref in links
            for trace in [topology.downstream(asset_ref)]
        },
        "energized": topology.energized_nodes(),
        "customer_counts": topology.customer_counts(),
        "nearest_upstream": topology.nearest_upstream(
            [asset_ref for asset_ref, link in links.items() if link.kind is K.BREAKER]
        ),
        "protective_chain": {node: topology.protective_chain(node) for node in nodes},
    }


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(data=st.data(), network=_networks())
def test_switched_answers_like_a_rebuild(data: st.DataObject, network: Network) -> None:
    topology = Topology(network)
    topology.customer_counts()  # so that the counts too are carried across the switching
    changes = st.dictionaries(st.sampled_from(sorted(network.links)), st.booleans(), min_size=1)
    for batch in data.draw(st.lists(changes, min_size=1, max_size=6)):
        topology = topology.switched(batch)
        network = network.switched(
            open_=[a for a, is_open in batch.items() if is_open],
            close=[a for a, is_open in batch.items() if not is_open],
        )
        assert _answers(topology) == _answers(Topology(network))
