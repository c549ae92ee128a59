"""The first import of a large network, into empty tables.

`save_grid` merges by natural key, so it can run again and change rows in place; that
reads the stored network to compare with, merges every table through a staging table and
reads the new rows' ids back. A utility's first load (a million customers, several
million nodes and devices) into empty tables needs none of it: here the ids are assigned
in memory and every table is streamed with one COPY. Derived columns (feeder, serving
transformer, territory) are computed exactly as `save_grid` computes them.
"""

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import Network, Topology
from outage.errors import Conflict
from outage.grid.copying import copy, path, point
from outage.grid.service import ImportSummary, Progress, lock_imports, update_territory
from outage.grid.switching import bump_structure

_TABLES = ("substations", "nodes", "devices", "feeders", "premises", "customers")


class NetworkNotEmpty(Conflict, ValueError):
    """The bulk path loads into empty tables only; re-imports go through `save_grid`."""


def bulk_save_grid(
    session: Session,
    model: GridModel,
    progress: Progress | None = None,
    *,
    territory_margin_m: float = 2000.0,
) -> ImportSummary:
    """Load a whole network into empty grid tables (NetworkNotEmpty otherwise)."""
    lock_imports(session)
    if session.scalar(text("SELECT EXISTS (SELECT 1 FROM nodes)")):
        raise NetworkNotEmpty("the network tables are not empty: import with save_grid")
    topology = Topology(Network.from_model(model))
    feeder_of = topology.nearest_upstream([f.head for f in model.feeders])
    transformers = [d.asset_ref for d in model.devices if d.kind is DeviceKind.TRANSFORMER]
    transformer_of = topology.nearest_upstream(transformers).nodes
    del topology

    substation_id = {s.name: i for i, s in enumerate(model.substations, 1)}
    node_id = {n.ref: i for i, n in enumerate(model.nodes, 1)}
    device_id = {d.asset_ref: i for i, d in enumerate(model.devices, 1)}
    feeder_id = {f.head: i for i, f in enumerate(model.feeders, 1)}

    def feeder_of_device(asset_ref: str) -> int | None:
        head = feeder_of.devices.get(asset_ref)
        return feeder_id[head] if head else None

    copy(
        session,
        "substations",
        ("id", "name", "geom"),
        ((substation_id[s.name], s.name, point(s.location)) for s in model.substations),
        len(model.substations),
        progress,
    )
    copy(
        session,
        "nodes",
        ("id", "ref", "voltage_kv", "substation_id", "is_source", "geom"),
        (
            (
                node_id[n.ref],
                n.ref,
                n.voltage_kv,
                substation_id.get(n.substation or ""),
                n.is_source,
                point(n.location),
            )
            for n in model.nodes
        ),
        len(model.nodes),
        progress,
    )
    device_columns = (
        "id",
        "asset_ref",
        "kind",
        "is_protective",
        "from_node_id",
        "to_node_id",
        "normal_open",
        "is_open",
        "voltage_kv",
        "rating_kva",
        "remote_controlled",
        "substation_id",
        "feeder_id",
        "geom",
    )

    def device_row(d: Any, feeder: int | None) -> tuple[Any, ...]:
        return (
            device_id[d.asset_ref],
            d.asset_ref,
            d.kind.value,
            d.is_protective,
            node_id[d.from_node],
            node_id[d.to_node],
            d.normal_open,
            d.is_open,
            d.voltage_kv,
            d.rating_kva,
            d.remote_controlled,
            substation_id.get(d.substation or ""),
            feeder,
            path(d.path),
        )

    # Feeders and devices point at each other: the head devices go first without a feeder.
    heads = set(feeder_id)
    copy(
        session,
        "devices",
        device_columns,
        [device_row(d, None) for d in model.devices if d.asset_ref in heads],
        len(heads),
        None,
    )
    copy(
        session,
        "feeders",
        ("id", "name", "substation_id", "head_device_id"),
        [
            (feeder_id[f.head], f.name, substation_id[f.substation], device_id[f.head])
            for f in model.feeders
        ],
        len(model.feeders),
        progress,
    )
    session.execute(
        text(
            "UPDATE devices SET feeder_id = m.feeder_id FROM ("
            " SELECT unnest(CAST(:ids AS int[])) AS id, unnest(CAST(:feeders AS int[]))"
            " AS feeder_id) AS m WHERE devices.id = m.id"
        ),
        {"ids": [device_id[h] for h in heads], "feeders": [feeder_of_device(h) for h in heads]},
    )
    copy(
        session,
        "devices",
        device_columns,
        (
            device_row(d, feeder_of_device(d.asset_ref))
            for d in model.devices
            if d.asset_ref not in heads
        ),
        len(model.devices) - len(heads),
        progress,
    )
    copy(
        session,
        "premises",
        (
            "id",
            "ref",
            "node_id",
            "transformer_id",
            "feeder_id",
            "address",
            "meter_id",
            "load_kw",
            "load_kvar",
            "geom",
        ),
        (
            (
                i,
                p.ref,
                node_id[p.node],
                device_id.get(transformer_of.get(p.node, "")),
                feeder_id.get(feeder_of.nodes.get(p.node, "")),
                p.address,
                p.meter_id,
                p.load_kw,
                p.load_kvar,
                point(p.location),
            )
            for i, p in enumerate(model.premises, 1)
        ),
        len(model.premises),
        progress,
    )
    copy(
        session,
        "customers",
        ("id", "account", "premise_id", "name", "phone", "email", "language", "critical"),
        (
            (
                i,
                p.customer.account,
                i,
                p.customer.name,
                p.customer.phone,
                p.customer.email,
                p.customer.language,
                p.customer.critical,
            )
            for i, p in enumerate(model.premises, 1)
        ),
        len(model.premises),
        progress,
    )
    for table in _TABLES:
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        )
    update_territory(session, territory_margin_m)
    session.execute(text(f"ANALYZE {', '.join(_TABLES)}"))
    bump_structure(session)
    return ImportSummary(
        substations=len(model.substations),
        nodes=len(model.nodes),
        devices=len(model.devices),
        feeders=len(model.feeders),
        premises=len(model.premises),
        customers=len(model.premises),
    )
