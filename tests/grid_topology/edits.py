"""Edits a re-import makes, and what a topology answers, for checking `Topology.edited`
against a topology built afresh from the edited network."""

import random
from collections.abc import Iterable

from grid_topology.model import DeviceKind
from grid_topology.topology import Link, Network, NetworkEdit, Topology


def answers(topology: Topology, asset_refs: Iterable[str] | None = None) -> dict[str, object]:
    """Everything callers ask of a topology (traces of `asset_refs` and their terminals, all
    devices by default); the devices of a trace as a set, their order following the tree's, which
    may differ between equal trees."""
    links = topology.network.links
    traced = list(links) if asset_refs is None else [a for a in asset_refs if a in links]
    nodes = {node for a in traced for node in (links[a].from_node, links[a].to_node)}
    return {
        "downstream": {
            asset_ref: (set(trace.devices), trace.nodes, trace.accounts)
            for asset_ref in traced
            for trace in [topology.downstream(asset_ref)]
        },
        "energized": topology.energized_nodes(),
        "customer_counts": dict(topology.customer_counts()),
        "nearest_upstream": topology.nearest_upstream(
            [a for a, link in links.items() if link.kind is DeviceKind.BREAKER]
        ),
        "protective_chain": {node: topology.protective_chain(node) for node in sorted(nodes)},
    }


def applied(network: Network, edit: NetworkEdit) -> Network:
    """The edit written out as a network of plain dicts, to build a fresh topology from."""
    links = {**network.links, **edit.links}
    accounts_at = {**network.accounts_at, **edit.accounts_at}
    return Network(
        links={ref: link for ref, link in links.items() if link is not None},
        sources=frozenset(
            {n for n in network.sources if edit.sources.get(n, True)}
            | {n for n, is_source in edit.sources.items() if is_source}
        ),
        accounts_at={n: a for n, a in accounts_at.items() if a or n not in edit.accounts_at},
    )


def random_edit(network: Network, rng: random.Random, tag: str) -> NetworkEdit:
    """A GIS re-import's few changes: a lateral added (a line, a fuse and a transformer with
    customers), a device removed, a line re-routed to another node, a premise moved, now
    and then a source gained or lost. `tag` makes the new references unique."""
    nodes = sorted({n for link in network.links.values() for n in (link.from_node, link.to_node)})
    refs = sorted(network.links)
    served = sorted(network.accounts_at)
    links: dict[str, Link | None] = {}
    accounts_at: dict[str, tuple[str, ...]] = {}
    sources: dict[str, bool] = {}
    for change in rng.sample(["lateral", "remove", "reroute", "move", "source"], rng.randint(1, 4)):
        if change == "lateral":
            tap, a, b, c = rng.choice(nodes), f"{tag}/a", f"{tag}/b", f"{tag}/c"
            links[f"{tag}/L"] = Link(f"{tag}/L", DeviceKind.LINE, tap, a)
            links[f"{tag}/F"] = Link(f"{tag}/F", DeviceKind.FUSE, a, b)
            links[f"{tag}/T"] = Link(f"{tag}/T", DeviceKind.TRANSFORMER, b, c)
            accounts_at[c] = (f"{tag}/1", f"{tag}/2")
        elif change == "remove":
            links[rng.choice(refs)] = None
        elif change == "reroute":
            ref = rng.choice(refs)
            link = network.links[ref]
            to_node = rng.choice([n for n in nodes if n != link.from_node])
            links.setdefault(ref, Link(ref, link.kind, link.from_node, to_node, link.is_open))
        elif change == "move" and served:
            origin = rng.choice(served)
            account, *rest = network.accounts_at[origin]
            target = rng.choice([n for n in nodes if n != origin])
            accounts_at[origin] = tuple(rest)
            accounts_at[target] = tuple(sorted({*network.accounts_at.get(target, ()), account}))
        elif change == "source" and rng.random() < 0.3:
            node = rng.choice(nodes)
            sources[node] = node not in network.sources
    return NetworkEdit(links=links, sources=sources, accounts_at=accounts_at)
