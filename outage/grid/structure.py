"""What each re-import changed, so that a process follows it without loading the network.

`save_grid` records the devices and nodes an import added, retired or changed under the
structure version it bumped. A process holding the network at an older version reads the
refs logged since, then only those rows, and applies them with `Topology.edited`
(`outage.grid.live`). An import that changed too much to log (a first import, the bulk
path) logs nothing, and a process that finds a version missing loads the whole network.
"""

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from grid_topology.model import DeviceKind
from grid_topology.topology import Link, NetworkEdit
from outage.grid.models import Customer, Device, GridNode, Premise, StructureChange
from outage.grid.switching import is_tripped

LOGGED_CHANGES = 20_000
"""Above this many changed devices and nodes an import is not logged: loading the whole
network is then about as quick as reading the changes."""

KEPT_VERSIONS = 50
"""Structure versions whose changes are kept; a process further behind loads it all."""


@dataclass(frozen=True)
class StructureEdits:
    """A re-import's changes as each of a process's two views takes them."""

    energized: NetworkEdit
    operated: NetworkEdit
    """Protective devices protection opened count as closed."""


def record(
    session: Session, version: int, devices: Collection[str], nodes: Collection[str]
) -> None:
    """Log the changed devices and nodes under `version`, and forget old versions."""
    rows = [{"version": version, "kind": "device", "ref": ref} for ref in devices]
    rows += [{"version": version, "kind": "node", "ref": ref} for ref in nodes]
    if 0 < len(rows) <= LOGGED_CHANGES:
        session.execute(insert(StructureChange), rows)
    session.execute(
        delete(StructureChange).where(StructureChange.version <= version - KEPT_VERSIONS)
    )


def edits_since(session: Session, held: int, now: int) -> StructureEdits | None:
    """The changes from structure version `held` to `now`; None when some version's were
    not logged or are forgotten (load the network instead)."""
    logged = session.execute(
        select(StructureChange.version, StructureChange.kind, StructureChange.ref).where(
            StructureChange.version > held, StructureChange.version <= now
        )
    ).all()
    if len({version for version, _, _ in logged}) != now - held:
        return None
    devices = sorted({ref for _, kind, ref in logged if kind == "device"})
    nodes = sorted({ref for _, kind, ref in logged if kind == "node"})
    from_node, to_node = aliased(GridNode), aliased(GridNode)
    rows = session.execute(
        select(
            Device.asset_ref,
            Device.kind,
            from_node.ref,
            to_node.ref,
            Device.is_open,
            Device.normal_open,
            Device.state_source,
        )
        .join(from_node, Device.from_node_id == from_node.id)
        .join(to_node, Device.to_node_id == to_node.id)
        .where(Device.asset_ref.in_(devices), Device.retired_in.is_(None))
    ).all()
    energized: dict[str, Link | None] = dict.fromkeys(devices)
    operated: dict[str, Link | None] = dict.fromkeys(devices)
    for ref, kind, a, b, is_open, normal_open, source in rows:
        energized[ref] = Link(ref, DeviceKind(kind), a, b, is_open)
        tripped = is_tripped(kind, is_open, normal_open, source)
        operated[ref] = Link(ref, DeviceKind(kind), a, b, is_open and not tripped)
    sources = dict.fromkeys(nodes, False)
    sources.update(
        (ref, True)
        for ref in session.scalars(
            select(GridNode.ref).where(
                GridNode.ref.in_(nodes), GridNode.is_source, GridNode.retired_in.is_(None)
            )
        )
    )
    accounts_at: dict[str, tuple[str, ...]] = dict.fromkeys(nodes, ())
    for ref, accounts in session.execute(
        select(GridNode.ref, func.array_agg(Customer.account))
        .join(Premise, Premise.node_id == GridNode.id)
        .join(Customer, Customer.premise_id == Premise.id)
        .where(GridNode.ref.in_(nodes), Premise.retired_in.is_(None))
        .group_by(GridNode.ref)
    ):
        accounts_at[ref] = tuple(sorted(accounts))
    return StructureEdits(
        energized=NetworkEdit(links=energized, sources=sources, accounts_at=accounts_at),
        operated=NetworkEdit(links=operated, sources=sources, accounts_at=accounts_at),
    )
