"""A GIS export's few changes between two imports, made on a grid model: what the
benchmarks re-import against a running system, and the tests too."""

from dataclasses import replace

from grid_topology.model import Customer, Device, DeviceKind, GridModel, Node, Premise


def with_lateral(grid: GridModel, tap: str, tag: str = "lateral") -> GridModel:
    """The grid with a new lateral at node `tap`: a fuse, a transformer and two premises."""
    at = next(n for n in grid.nodes if n.ref == tap)
    x, y = at.location
    fused = Node(f"{tag}/fused", (x + 0.0001, y), at.voltage_kv)
    low = Node(f"{tag}/lv", (x + 0.0002, y), 0.4)
    devices = [
        Device(f"{tag} Fuse", DeviceKind.FUSE, tap, fused.ref, (fused.location,)),
        Device(f"{tag} Trafo", DeviceKind.TRANSFORMER, fused.ref, low.ref, (low.location,)),
    ]
    premises = [
        Premise(
            f"{tag}/premise/{i}",
            low.ref,
            (x + 0.0002, y + 0.0001 * i),
            f"{i} New Lateral Street",
            Customer(f"{tag}-{i}", f"Customer {i}", f"+8490000{i:04d}", None, "vi"),
        )
        for i in (1, 2)
    ]
    return replace(
        grid,
        nodes=[*grid.nodes, fused, low],
        devices=[*grid.devices, *devices],
        premises=[*grid.premises, *premises],
    )


def with_premise_moved(grid: GridModel, ref: str, node: str) -> GridModel:
    """The grid with premise `ref` served from `node` instead."""
    return replace(
        grid, premises=[replace(p, node=node) if p.ref == ref else p for p in grid.premises]
    )
