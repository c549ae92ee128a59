"""Storing the network model in PostGIS and reading it back for tracing and the API."""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import (
    Row,
    Select,
    String,
    case,
    func,
    select,
    text,
    true,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

from grid_topology.model import DeviceKind, GridModel
from grid_topology.topology import KINDS, LinkTable, Network, Topology
from outage import clock, collector, locks
from outage.errors import Conflict
from outage.grid import structure
from outage.grid.copying import copied_out, copy, fetched_row, path, point
from outage.grid.models import Customer, Device, Feeder, GridNode, Premise, Substation
from outage.grid.regions import Scope
from outage.grid.switching import bump_structure

Progress = Callable[[str, int, int], None]
"""Called as (stage, rows done, rows in stage) while an import writes."""


@dataclass(frozen=True)
class ImportSummary:
    substations: int
    nodes: int
    devices: int
    feeders: int
    premises: int
    customers: int
    changed_devices: int = 0
    """Devices added, retired, or changed in connectivity or normal state."""
    changed_nodes: int = 0
    """Nodes added, retired, or changed as a source or in the customers served there."""
    retired: tuple[str, ...] = ()
    """References of the devices, nodes and premises the import left out."""


@dataclass(frozen=True)
class Retiring:
    """The features a re-import leaves out of the network."""

    devices: frozenset[str]
    premises: frozenset[str]


Guard = Callable[[Session, Retiring], list[str]]
"""Why some of the features an import would retire must stay in service (an active
incident on them, an order in progress), one sentence each; the caller that knows of
incidents and orders hands these to `save_grid`."""


class ImportRefused(Conflict, ValueError):
    """The import would retire features still in service: nothing was written."""


@dataclass(frozen=True)
class _Stored:
    """The network in the database before an import, as far as an import can change it."""

    devices: dict[str, tuple[DeviceKind, str, str, bool]]
    """asset_ref -> kind, from node, to node, normal_open."""
    abnormal: dict[str, bool]
    """asset_ref -> live is_open, of the devices not in their normal state."""
    nodes: dict[str, bool]
    """Node ref -> is_source."""
    premises: frozenset[str]
    accounts_at: dict[str, tuple[str, ...]]
    node_ids: dict[str, int]
    """Ref -> id of the nodes in the network; with the ids of the rows an import writes,
    those its rows refer to (likewise the devices' and premises')."""
    device_ids: dict[str, int]
    premise_ids: dict[str, int]


def _stored(session: Session) -> _Stored:
    """Read with Core selects of just the columns compared: rows, not ORM objects."""
    connection = session.connection()
    node_refs: dict[int, str] = {}
    nodes: dict[str, bool] = {}
    node_ids: dict[str, int] = {}
    for id_, ref, is_source, retired_in in connection.execute(
        select(GridNode.id, GridNode.ref, GridNode.is_source, GridNode.retired_in)
    ):
        node_refs[id_] = ref
        if retired_in is None:
            nodes[ref] = is_source
            node_ids[ref] = id_
    devices: dict[str, tuple[DeviceKind, str, str, bool]] = {}
    device_ids: dict[str, int] = {}
    abnormal: dict[str, bool] = {}
    for id_, ref, kind, a, b, normal_open, is_open in connection.execute(
        select(
            Device.id,
            Device.asset_ref,
            Device.kind,
            Device.from_node_id,
            Device.to_node_id,
            Device.normal_open,
            Device.is_open,
        ).where(Device.retired_in.is_(None))
    ):
        devices[ref] = (kind, node_refs[a], node_refs[b], normal_open)
        device_ids[ref] = id_
        if is_open != normal_open:
            abnormal[ref] = is_open
    premise_ids = dict(
        connection.execute(select(Premise.ref, Premise.id).where(Premise.retired_in.is_(None)))
        .tuples()
        .all()
    )
    return _Stored(
        devices,
        abnormal,
        nodes,
        frozenset(premise_ids),
        _accounts_at(session, None, None),
        node_ids,
        device_ids,
        premise_ids,
    )


@dataclass(frozen=True)
class _Diff:
    devices: set[str]
    nodes: set[str]
    retiring: Retiring
    retired_nodes: frozenset[str]


def _diff(stored: _Stored, model: GridModel, network: Network) -> _Diff:
    """What the model (whose network is `network`) changes of the stored network (live
    states apart: those stay)."""
    devices = {
        d.asset_ref
        for d in model.devices
        if stored.devices.get(d.asset_ref) != (d.kind, d.from_node, d.to_node, d.normal_open)
    }
    devices |= set(stored.devices) - {d.asset_ref for d in model.devices}
    nodes = {n.ref for n in model.nodes if stored.nodes.get(n.ref) != n.is_source}
    retired_nodes = frozenset(stored.nodes) - {n.ref for n in model.nodes}
    accounts_at = network.accounts_at
    nodes |= {
        n
        for n in {*accounts_at, *stored.accounts_at}
        if accounts_at.get(n) != stored.accounts_at.get(n)
    }
    retiring = Retiring(
        devices=frozenset(stored.devices) - {d.asset_ref for d in model.devices},
        premises=stored.premises - {p.ref for p in model.premises},
    )
    return _Diff(devices, nodes | retired_nodes, retiring, retired_nodes)


def _refusals(
    session: Session, stored: _Stored, retiring: Retiring, guards: Sequence[Guard]
) -> list[str]:
    reasons = [
        f"device {ref} is {'open' if stored.abnormal[ref] else 'closed'}, against its normal state"
        for ref in sorted(retiring.devices & set(stored.abnormal))
    ]
    for guard in guards:
        reasons += guard(session, retiring)
    return reasons


def _retire(session: Session, version: int, diff: _Diff) -> None:
    """Take the left-out features out of the network, keeping their rows (and ids) for the
    records that name them; a meter id is freed for the premise that may take it over."""
    retiring = diff.retiring
    session.execute(
        update(Device)
        .where(Device.asset_ref.in_(sorted(retiring.devices)))
        .values(retired_in=version, feeder_id=None)
    )
    session.execute(
        update(Premise)
        .where(Premise.ref.in_(sorted(retiring.premises)))
        .values(retired_in=version, meter_id=None, feeder_id=None)
    )
    session.execute(
        update(GridNode)
        .where(GridNode.ref.in_(sorted(diff.retired_nodes)))
        .values(retired_in=version)
    )


@dataclass(frozen=True)
class DeviceInfo:
    asset_ref: str
    kind: DeviceKind
    is_protective: bool
    normal_open: bool
    is_open: bool
    voltage_kv: float | None
    rating_kva: float | None
    feeder: str | None
    substation: str | None
    geometry: dict[str, Any]


def _merge(
    session: Session,
    table: str,
    key: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    progress: Progress | None,
    *,
    kept: frozenset[str] = frozenset(),
) -> dict[str, int]:
    """Write rows by natural key, so a re-import changes rows in place: streamed into a
    staging table, then rows that differ from the stored ones updated, new ones inserted
    and equal ones left alone. A re-import that changes a few features thus writes a few
    rows, not a new version of every row with every index entry.

    Columns in `kept` are written for new rows only: a re-import leaves them as they are.
    Returns the ids of the rows written (natural key -> id).
    """
    staging = f"import_{table}"
    listed = ", ".join(columns)
    updated = [c for c in columns if c != key and c not in kept]
    session.execute(text(f"DROP TABLE IF EXISTS {staging}"))
    session.execute(
        text(f"CREATE TEMP TABLE {staging} AS SELECT {listed} FROM {table} WITH NO DATA")
    )
    copy(session, staging, columns, rows, len(rows), progress, stage=table)
    session.execute(text(f"ANALYZE {staging}"))
    changed = text(
        f"UPDATE {table} AS t SET {', '.join(f'{c} = s.{c}' for c in updated)}"
        f" FROM {staging} AS s WHERE t.{key} = s.{key}"
        f" AND ({', '.join(f't.{c}' for c in updated)})"
        f" IS DISTINCT FROM ({', '.join(f's.{c}' for c in updated)})"
        f" RETURNING t.{key}, t.id"
    )
    added = text(
        f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {staging} AS s"
        f" WHERE NOT EXISTS (SELECT 1 FROM {table} AS t WHERE t.{key} = s.{key})"
        f" RETURNING {key}, id"
    )
    written = dict(session.execute(changed).tuples().all())
    written.update(session.execute(added).tuples().all())
    session.execute(text(f"DROP TABLE {staging}"))
    return written


def _ids(session: Session, column: Any, id_column: Any) -> dict[str, int]:
    return {key: id_ for key, id_ in session.execute(select(column, id_column))}


def lock_imports(session: Session) -> None:
    """Wait for any other import of the network to commit, and keep the next one waiting
    until this transaction ends: an import compares the model with what is stored, so
    two at once would each miss what the other wrote, and the structure log with them."""
    session.execute(select(func.pg_advisory_xact_lock(locks.GRID_IMPORT)))


_HOME = "COALESCE(f.substation_id, 0)"
"""A premise's substation key (`UNPLACED` on no feeder), joined as p and f."""

_HOMES_BEFORE = (
    "DROP TABLE IF EXISTS import_homes;"
    " CREATE TEMP TABLE import_homes ON COMMIT DROP AS"
    f" SELECT p.id AS premise_id, c.id AS customer_id, {_HOME} AS key"
    " FROM premises p LEFT JOIN feeders f ON f.id = p.feeder_id"
    " LEFT JOIN customers c ON c.premise_id = p.id"
)
"""Each premise's and customer's substation key before the import changes them."""

_MOVES = (
    "INSERT INTO substation_moves (from_substation, to_substation, moved_at)"
    f" SELECT DISTINCT h.key, {_HOME}, CAST(:now AS timestamptz) FROM import_homes h"
    " JOIN premises p ON p.id = h.premise_id LEFT JOIN feeders f ON f.id = p.feeder_id"
    f" WHERE h.key <> {_HOME}"
    f" UNION SELECT DISTINCT h.key, {_HOME}, CAST(:now AS timestamptz)"
    " FROM import_homes h"
    " JOIN customers c ON c.id = h.customer_id JOIN premises p ON p.id = c.premise_id"
    f" LEFT JOIN feeders f ON f.id = p.feeder_id WHERE h.key <> {_HOME}"
    " ON CONFLICT DO NOTHING"
)
"""The keys the import moved premises or customers between (`SubstationMove`)."""


def save_grid(
    session: Session,
    model: GridModel,
    progress: Progress | None = None,
    *,
    territory_margin_m: float = 2000.0,
    guards: Sequence[Guard] = (),
) -> ImportSummary:
    """Write a whole network; running it twice with the same model changes nothing.

    Features are updated in place by their references, so ids stay and running incidents
    keep theirs. A device's live switching state survives a re-import (the GIS knows its
    normal state, the switching log its live one). Devices, nodes and premises the model
    leaves out are retired: kept for the records that name them, out of the network. A
    device not in its normal state, or one a guard says is still in service, is not
    retired silently: the import is refused (ImportRefused) naming them, nothing written.

    When the import changed the network's connectivity or who is served where, it bumps
    the structure version and logs the changed devices and nodes under it, which running
    processes apply to their copy (`outage.grid.structure`); otherwise it bumps nothing.

    Feeder membership and serving transformers are derived here from the normal-state
    topology, so every importer gets them the same way. Imports run one after the other
    (`lock_imports`), the second comparing the model with what the first stored.
    """
    lock_imports(session)
    stored = _stored(session)
    network = Network.from_model(model)
    diff = _diff(stored, model, network)
    reasons = _refusals(session, stored, diff.retiring, guards)
    if reasons:
        raise ImportRefused(
            "the import leaves out features still in service: " + "; ".join(reasons)
        )
    version = bump_structure(session) if diff.devices or diff.nodes else None
    if version is not None:
        _retire(session, version, diff)
    session.execute(text(_HOMES_BEFORE))
    topology = Topology(network)
    feeder_of = topology.nearest_upstream([f.head for f in model.feeders])
    transformers = [d.asset_ref for d in model.devices if d.kind is DeviceKind.TRANSFORMER]
    transformer_of = topology.nearest_upstream(transformers).nodes
    feeder_by_head = {f.head: f.name for f in model.feeders}

    _merge(
        session,
        "substations",
        "name",
        ("name", "geom"),
        [(s.name, point(s.location)) for s in model.substations],
        progress,
    )
    substation_ids = _ids(session, Substation.name, Substation.id)
    node_ids = stored.node_ids | _merge(
        session,
        "nodes",
        "ref",
        ("ref", "voltage_kv", "substation_id", "is_source", "retired_in", "geom"),
        [
            (
                n.ref,
                n.voltage_kv,
                substation_ids.get(n.substation or ""),
                n.is_source,
                None,
                point(n.location),
            )
            for n in model.nodes
        ],
        progress,
    )
    device_ids = stored.device_ids | _merge(
        session,
        "devices",
        "asset_ref",
        (
            "asset_ref",
            "kind",
            "is_protective",
            "from_node_id",
            "to_node_id",
            "normal_open",
            "is_open",
            "voltage_kv",
            "rating_kva",
            "retired_in",
            "remote_controlled",
            "substation_id",
            "geom",
        ),
        [
            (
                d.asset_ref,
                d.kind.value,
                d.is_protective,
                node_ids[d.from_node],
                node_ids[d.to_node],
                d.normal_open,
                d.is_open,
                d.voltage_kv,
                d.rating_kva,
                None,
                d.remote_controlled,
                substation_ids.get(d.substation or ""),
                path(d.path),
            )
            for d in model.devices
        ],
        progress,
        kept=frozenset({"is_open"}),  # the live state is the switching log's, not the GIS's
    )
    _merge(
        session,
        "feeders",
        "name",
        ("name", "substation_id", "head_device_id"),
        [(f.name, substation_ids[f.substation], device_ids[f.head]) for f in model.feeders],
        progress,
    )
    feeder_ids = _ids(session, Feeder.name, Feeder.id)

    def feeder_id(head: str | None) -> int | None:
        return feeder_ids[feeder_by_head[head]] if head else None

    refs = [d.asset_ref for d in model.devices]
    session.execute(
        text(
            "UPDATE devices SET feeder_id = m.feeder_id FROM ("
            " SELECT unnest(CAST(:refs AS text[])) AS asset_ref,"
            "        unnest(CAST(:feeders AS int[])) AS feeder_id) AS m"
            " WHERE devices.asset_ref = m.asset_ref"
            " AND devices.feeder_id IS DISTINCT FROM m.feeder_id"
        ),
        {"refs": refs, "feeders": [feeder_id(feeder_of.devices.get(r)) for r in refs]},
    )
    premise_ids = stored.premise_ids | _merge(
        session,
        "premises",
        "ref",
        (
            "ref",
            "node_id",
            "transformer_id",
            "feeder_id",
            "address",
            "meter_id",
            "retired_in",
            "load_kw",
            "load_kvar",
            "geom",
        ),
        [
            (
                p.ref,
                node_ids[p.node],
                device_ids.get(transformer_of.get(p.node, "")),
                feeder_id(feeder_of.nodes.get(p.node)),
                p.address,
                p.meter_id,
                None,
                p.load_kw,
                p.load_kvar,
                point(p.location),
            )
            for p in model.premises
        ],
        progress,
    )
    update_territory(session, territory_margin_m)
    _merge(
        session,
        "customers",
        "account",
        ("account", "premise_id", "name", "phone", "email", "language", "critical"),
        [
            (
                p.customer.account,
                premise_ids[p.ref],
                p.customer.name,
                p.customer.phone,
                p.customer.email,
                p.customer.language,
                p.customer.critical,
            )
            for p in model.premises
        ],
        progress,
    )
    session.execute(text(_MOVES), {"now": clock.now()})
    if version is not None:
        structure.record(session, version, diff.devices, diff.nodes)
    return ImportSummary(
        substations=len(model.substations),
        nodes=len(model.nodes),
        devices=len(model.devices),
        feeders=len(model.feeders),
        premises=len(model.premises),
        customers=len(model.premises),
        changed_devices=len(diff.devices),
        changed_nodes=len(diff.nodes),
        retired=tuple(sorted(diff.retiring.devices | diff.retiring.premises | diff.retired_nodes)),
    )


def update_territory(session: Session, margin_m: float) -> None:
    """The outline of everything we supply, widened by a margin: where reports may come from."""
    session.execute(
        text(
            "INSERT INTO service_areas (name, geom)"
            " SELECT 'territory', ST_Multi(ST_Buffer(ST_ConvexHull(ST_Collect(geom))::geography,"
            "        :margin)::geometry) FROM nodes"
            " ON CONFLICT (name) DO UPDATE SET geom = excluded.geom"
        ),
        {"margin": margin_m},
    )


def load_network(session: Session, scope: Scope | None = None) -> Network:
    """The live connectivity, as the tracer wants it: all of it, or one engine's regions'
    (their devices, the nodes these join, the sources among them, their customers).

    The devices are read as arrays, their `Link`s made when asked for (`LinkTable`), and
    the customers by COPY: on a grid of millions of devices, rows and objects per device
    cost more than the query. The customers' nodes are keyed by the links' own strings,
    one copy of each instead of several.
    """
    with collector.paused():
        return _network(session, scope)


def _network(session: Session, scope: Scope | None) -> Network:
    links = _links(session, scope)
    nodes, refs = links.vertices.nodes, links.vertices.refs
    sources = frozenset(
        refs[nodes[ref]] if ref in nodes else ref
        for ref in session.scalars(
            select(GridNode.ref).where(GridNode.is_source, GridNode.retired_in.is_(None))
        )
        if scope is None or ref in nodes
    )
    return Network(links=links, sources=sources, accounts_at=_accounts_at(session, scope, links))


def _links(session: Session, scope: Scope | None) -> LinkTable:
    """The devices and the nodes they join, read in one statement (so they agree) as a row
    of whole columns: Python makes one string per reference and the rest is numpy's."""
    devices = select(
        Device.asset_ref,
        case(
            {kind.value: str(code) for code, kind in enumerate(KINDS)},
            value=type_coerce(Device.kind, String),
        ).label("kind"),
        Device.from_node_id,
        Device.to_node_id,
        Device.is_open,
    ).where(Device.retired_in.is_(None))
    if scope is not None:
        devices = devices.where(
            scope.holds_device(Device.id, Device.feeder_id, Device.substation_id)
            | Device.asset_ref.in_(sorted(scope.ties))
        )
    d = devices.cte("d")
    nodes = select(GridNode.id, GridNode.ref)
    if scope is not None:  # all of them otherwise: a seq scan, where a filter took seconds
        nodes = nodes.where(
            GridNode.id.in_(select(d.c.from_node_id).union_all(select(d.c.to_node_id)))
        )
    n = nodes.cte("n")
    columns = select(
        func.array_agg(d.c.asset_ref),
        func.string_agg(d.c.kind, ""),
        func.string_agg(case((d.c.is_open, "1"), else_="0"), ""),
        func.array_to_string(func.array_agg(d.c.from_node_id), " "),
        func.array_to_string(func.array_agg(d.c.to_node_id), " "),
    ).subquery()
    node_columns = select(
        func.array_to_string(func.array_agg(n.c.id), " "), func.array_agg(n.c.ref)
    ).subquery()
    asset_refs, kinds, is_open, froms, tos, node_ids, node_refs = fetched_row(
        session, select(columns, node_columns).select_from(columns.join(node_columns, true()))
    )
    ids = _numbers(node_ids)
    by_id = np.argsort(ids)
    ends = np.concatenate([_numbers(froms), _numbers(tos)])
    met = by_id[np.searchsorted(ids, ends, sorter=by_id)]
    # the nodes the devices meet, numbered as `LinkTable.of` numbers them, in that order
    found, first = np.unique(met, return_index=True)
    order = found[np.argsort(first)]
    rank = np.empty(len(ids), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    return LinkTable.numbered(
        asset_refs or [],
        _digits(kinds),
        [node_refs[i] for i in order.tolist()],
        rank[met].reshape(2, -1).T,
        _digits(is_open).astype(bool),
    )


def _numbers(column: str | None) -> np.ndarray:
    if not column:
        return np.empty(0, dtype=np.int64)
    return np.fromstring(column, dtype=np.int64, sep=" ")


def _digits(column: str | None) -> np.ndarray:
    return np.frombuffer((column or "").encode("ascii"), dtype=np.uint8) - ord("0")


def _accounts_at(
    session: Session, scope: Scope | None, links: LinkTable | None
) -> dict[str, tuple[str, ...]]:
    """Node ref (the string the links hold, when they have the node) -> the accounts of
    the customers served there, sorted."""
    nodes, refs = (links.vertices.nodes, links.vertices.refs) if links is not None else ({}, [])
    accounts: dict[str, list[str]] = {}
    query = (
        select(GridNode.ref, Customer.account)
        .join(Premise, Premise.node_id == GridNode.id)
        .join(Customer, Customer.premise_id == Premise.id)
        .where(Premise.retired_in.is_(None))
    )
    if scope is not None:
        query = query.where(scope.holds_feeder(Premise.feeder_id))
    for node, account in copied_out(session, query):
        accounts.setdefault(refs[nodes[node]] if node in nodes else node, []).append(account)
    return {node: tuple(sorted(a)) for node, a in accounts.items()}


def _device_query() -> Select[Any]:
    return (
        select(
            Device,
            Feeder.name,
            Substation.name,
            func.ST_AsGeoJSON(Device.geom, 6).label("geometry"),
        )
        .outerjoin(Feeder, Device.feeder_id == Feeder.id)
        .outerjoin(Substation, Device.substation_id == Substation.id)
        .where(Device.retired_in.is_(None))
    )


def _device_info(row: Row[Any]) -> DeviceInfo:
    device, feeder, substation, geometry = row
    return DeviceInfo(
        asset_ref=device.asset_ref,
        kind=DeviceKind(device.kind),
        is_protective=device.is_protective,
        normal_open=device.normal_open,
        is_open=device.is_open,
        voltage_kv=device.voltage_kv,
        rating_kva=device.rating_kva,
        feeder=feeder,
        substation=substation,
        geometry=json.loads(geometry),
    )


def list_devices(
    session: Session,
    *,
    kind: DeviceKind | None = None,
    feeder: str | None = None,
    protective: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[DeviceInfo]:
    query = _device_query().order_by(Device.id).limit(limit).offset(offset)
    if kind is not None:
        query = query.where(Device.kind == kind)
    if feeder is not None:
        query = query.where(Feeder.name == feeder)
    if protective is not None:
        query = query.where(Device.is_protective == protective)
    return [_device_info(row) for row in session.execute(query)]


def get_device(session: Session, asset_ref: str) -> DeviceInfo | None:
    row = session.execute(_device_query().where(Device.asset_ref == asset_ref)).first()
    return _device_info(row) if row else None
