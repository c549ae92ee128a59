"""Tracing on a tiny hand-built feeder.

S =B1= n1 -L1- n2 =F1= n3 -T1- n4 (A1, A2)
                |
                +-L2- n5 =F2= n6 -T2- n7 (A3)
n4 -TIE (normally open)- n7
"""

import json
import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import (
    WHOLE_TREE_SHARE,
    Link,
    LinkTable,
    Network,
    NetworkEdit,
    Topology,
    devices_of_kinds,
)
from tests.grid_topology.edits import answers, applied, random_edit

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


def test_answers_are_plain_python_values_that_json_can_hold(feeder: Network) -> None:
    topology = Topology(feeder.switched(open_=["F2"]))
    answers = [
        topology.is_energized("n4"),
        topology.is_energized("n7"),
        topology.is_device_energized("T2"),
        *topology.customer_counts().values(),
    ]
    assert json.loads(json.dumps(answers)) == answers
    assert answers[:3] == [True, False, False]


def test_downstream_lists_open_tie_on_the_boundary(feeder: Network) -> None:
    assert Topology(feeder).downstream("F1").devices == ("T1", "TIE")


def test_chains_of_many_nodes_at_once_are_each_node_s_chain(sample_grid: GridModel) -> None:
    topology = Topology(Network.from_model(sample_grid)).switched({"MV3.101 Switch 42": True})
    links = topology.network.links.values()
    nodes = sorted({n for link in links for n in (link.from_node, link.to_node)})
    assert len(nodes) * WHOLE_TREE_SHARE > len(topology._parent)  # one pass over the levels
    assert topology.protective_chains(nodes) == {n: topology.protective_chain(n) for n in nodes}


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


def test_sections_below_give_each_account_its_nearest_fuse(feeder: Network) -> None:
    sections = Topology(feeder).sections_below("L1", lambda link: link.kind is K.FUSE)
    assert sections == {"A1": "F1", "A2": "F1", "A3": "F2"}


def test_sections_below_fall_back_to_the_device_itself(feeder: Network) -> None:
    sections = Topology(feeder).sections_below("L2", lambda link: link.kind is K.TRANSFORMER)
    assert sections == {"A3": "T2"}
    assert Topology(feeder).sections_below("F2", lambda link: False) == {"A3": "F2"}


def test_an_open_device_has_no_sections_below(feeder: Network) -> None:
    assert Topology(feeder).sections_below("TIE", lambda link: True) == {}


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
    before = answers(topology)
    topology.switched({"F1": True, "TIE": False})
    assert answers(topology) == before


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
        assert answers(topology) == answers(Topology(network))


def test_edited_energizes_an_added_lateral(feeder: Network) -> None:
    topology = Topology(feeder).edited(
        NetworkEdit(
            links={
                "L3": Link("L3", K.LINE, "n5", "n8"),
                "T3": Link("T3", K.TRANSFORMER, "n8", "n9"),
            },
            accounts_at={"n9": ("A4",)},
        )
    )
    assert topology.downstream("L2").accounts == {"A3", "A4"}
    assert topology.customer_counts()["B1"] == 4


def test_edited_moves_a_customer_to_another_transformer(feeder: Network) -> None:
    topology = Topology(feeder)
    topology.customer_counts()
    moved = topology.edited(NetworkEdit(accounts_at={"n4": ("A1",), "n7": ("A2", "A3")}))
    assert moved.downstream("F2").accounts == {"A2", "A3"}
    assert (moved.customer_counts()["F1"], moved.customer_counts()["F2"]) == (1, 2)


def test_edited_drops_what_a_removed_device_fed(feeder: Network) -> None:
    topology = Topology(feeder).edited(NetworkEdit(links={"L2": None}))
    assert not topology.is_energized("n7")
    assert "L2" not in topology.network.links


def test_edited_leaves_the_original_as_it_was(feeder: Network) -> None:
    topology = Topology(feeder)
    topology.edited(NetworkEdit(links={"L2": None}, sources={"S": False}))
    assert topology.is_energized("n7") and topology.network == feeder


@st.composite
def _edits(draw: st.DrawFn, network: Network) -> NetworkEdit:
    """Devices added (onto existing or new nodes), removed or given other ends, sources
    gained or lost, and customers added, removed or moved between nodes."""
    ends = {n for link in network.links.values() for n in (link.from_node, link.to_node)}
    nodes = sorted(ends | set(network.accounts_at) | network.sources)
    nodes += [f"new{i}" for i in range(draw(st.integers(2, 4)))]
    refs = sorted(network.links) + [f"A{i}" for i in range(draw(st.integers(1, 3)))]
    links: dict[str, Link | None] = {}
    for ref in draw(st.lists(st.sampled_from(refs), max_size=4, unique=True)):
        ends = draw(st.lists(st.sampled_from(nodes), min_size=2, max_size=2, unique=True))
        kind, is_open = draw(st.sampled_from(list(K))), draw(st.booleans())
        links[ref] = draw(st.sampled_from([None, Link(ref, kind, ends[0], ends[1], is_open)]))
    sources = draw(st.dictionaries(st.sampled_from(nodes), st.booleans(), max_size=2))
    accounts = [*sorted({a for served in network.accounts_at.values() for a in served}), "new/0"]
    accounts_at: dict[str, tuple[str, ...]] = {}
    for node in draw(st.lists(st.sampled_from(nodes), max_size=3, unique=True)):
        accounts_at[node] = tuple(
            draw(st.lists(st.sampled_from(accounts), max_size=2, unique=True))
        )
    return NetworkEdit(links=links, sources=sources, accounts_at=accounts_at)


@pytest.mark.parametrize("tabled", [False, True], ids=["dict", "table"])
@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(data=st.data(), network=_networks())
def test_edited_answers_like_a_rebuild(tabled: bool, data: st.DataObject, network: Network) -> None:
    links = LinkTable.of(network.links.values()) if tabled else network.links
    topology = Topology(replace(network, links=links))
    topology.customer_counts()  # so that the counts too are carried across the edits
    for _ in range(data.draw(st.integers(1, 4))):
        edit = data.draw(_edits(network))
        topology, network = topology.edited(edit), applied(network, edit)
        assert topology.network == network
        assert answers(topology) == answers(Topology(network))


def test_edited_answers_like_a_rebuild_on_the_sample_grid(sample_grid: GridModel) -> None:
    network = Network.from_model(sample_grid)
    topology, rng = Topology(network), random.Random(0)
    topology.customer_counts()
    for step in range(20):
        edit = random_edit(network, rng, f"r{step}")
        topology, network = topology.edited(edit), applied(network, edit)
        traced = [*edit.links, *rng.sample(sorted(network.links), 100)]
        assert answers(topology, traced) == answers(Topology(network), traced)


@pytest.mark.parametrize("asset_ref", ["B1", "L1", "F1", "T1", "L2", "F2", "T2", "TIE"])
def test_accounts_below_are_the_downstream_trace_s(feeder: Network, asset_ref: str) -> None:
    topology = Topology(feeder).switched({"F2": True})
    assert topology.accounts_below(asset_ref) == topology.downstream(asset_ref).accounts


def test_chains_of_a_few_nodes_walked_up_are_each_node_s_chain(sample_grid: GridModel) -> None:
    topology = Topology(Network.from_model(sample_grid)).switched({"MV3.101 Switch 42": True})
    nodes = sorted(topology.network.accounts_at)[::97]
    assert len(nodes) * WHOLE_TREE_SHARE < len(topology._parent)  # walked, not a whole pass
    assert topology.protective_chains(nodes) == {n: topology.protective_chain(n) for n in nodes}


def test_a_link_table_holds_the_links_it_was_made_of(feeder: Network) -> None:
    table = LinkTable.of(feeder.links.values())
    assert table == feeder.links and list(table) == list(feeder.links)
    assert "nope" not in table and table.get("nope") is None


def test_a_link_table_does_not_hold_devices_its_topology_numbered_later(feeder: Network) -> None:
    network = replace(feeder, links=LinkTable.of(feeder.links.values()))
    added = Topology(network).edited(NetworkEdit(links={"L3": Link("L3", K.LINE, "n5", "n8")}))
    assert "L3" in added.network.links and "L3" not in network.links
    with pytest.raises(KeyError, match="L3"):
        network.links["L3"]


def test_devices_of_kinds_follow_an_edit_of_a_link_table(feeder: Network) -> None:
    network = replace(feeder, links=LinkTable.of(feeder.links.values())).edited(
        NetworkEdit(links={"F1": None, "L2": Link("L2", K.FUSE, "n2", "n5")})
    )
    assert devices_of_kinds(network.links, {K.FUSE}) == ["F2", "L2"]
