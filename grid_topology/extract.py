"""Cut a few feeders out of a large grid, for a sample that ships with the code."""

from dataclasses import replace

from grid_topology.model import GridModel
from grid_topology.topology import Network, Topology


def extract_feeders(model: GridModel, feeder_names: list[str]) -> GridModel:
    """The chosen feeders with their substation and everything they supply.

    Nodes kept: those downstream of the chosen feeder heads in the normal state, plus the
    substation's own nodes and the path from the source, so the extract stays energized.
    Devices are kept when both their nodes are; ties to dropped feeders go with them.
    Customers are those of the chosen feeders only.
    """
    by_name = {f.name: f for f in model.feeders}
    missing = [name for name in feeder_names if name not in by_name]
    if missing:
        raise ValueError(f"no such feeders: {', '.join(missing)}")
    feeders = [by_name[name] for name in feeder_names]
    topology = Topology(Network.from_model(model))
    supplied: set[str] = set()
    keep: set[str] = set()
    for feeder in feeders:
        supplied |= topology.downstream(feeder.head).nodes
        keep |= topology.upstream(feeder.head).nodes
    stations = {f.substation for f in feeders}
    keep |= supplied | {n.ref for n in model.nodes if n.substation in stations}
    devices = [d for d in model.devices if d.from_node in keep and d.to_node in keep]
    return replace(
        model,
        substations=[s for s in model.substations if s.name in stations],
        nodes=[n for n in model.nodes if n.ref in keep],
        devices=devices,
        feeders=feeders,
        premises=[p for p in model.premises if p.node in supplied],
    )
