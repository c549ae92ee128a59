"""A grid of two substations, North and South, each an engine region, and a tie between
their feeders' ends, normally open:

    SRC =TX= BUS =BR= 0 -L1- 1 =FU-A= A (4 customers)
                              |=FU-B= B (4 customers)
                              +=SW= 2 =FU-C= C (4 customers)
                                    +-L2- END              (for each of N and S)
    A =NOP= C   (normally open: a load transfer inside the region)

    N-END =TIE= S-END

Accounts are the node's name and a number: NA1..NA4, SC1..SC4.
"""

from datetime import UTC, datetime, timedelta

from grid_topology.model import Customer, Device, DeviceKind, Feeder, GridModel, Node, Premise
from grid_topology.model import Substation as GridSubstation
from outage.db import session_factory, session_scope
from outage.grid import switching
from outage.grid.enums import SwitchSource

REGIONS = {1: ["North"], 2: ["South"]}
"""The `engine_regions` of this grid."""
SIDES = {"N": "North", "S": "South"}
FUSES = ("A", "B", "C")


def accounts(side: str, fuse: str) -> list[str]:
    return [f"{side}{fuse}{i}" for i in range(1, 5)]


def meter(account: str) -> str:
    return f"M-{account}"


def _side(side: str, x: float) -> GridModel:
    substation = SIDES[side]
    place = (106.70 + x / 100, 10.77)

    def node(ref: str, **extra: object) -> Node:
        return Node(f"{side}-{ref}", place, 22.0, **extra)  # type: ignore[arg-type]

    def device(ref: str, kind: DeviceKind, a: str, b: str, **extra: object) -> Device:
        return Device(f"{ref}-{side}", kind, f"{side}-{a}", f"{side}-{b}", (place,), **extra)  # type: ignore[arg-type]

    return GridModel(
        substations=[GridSubstation(substation, place)],
        nodes=[
            node("SRC", substation=substation, is_source=True),
            node("BUS", substation=substation),
            *(node(ref) for ref in ("0", "1", "2", "A", "B", "C", "END")),
        ],
        devices=[
            device("TX", DeviceKind.TRANSFORMER, "SRC", "BUS", substation=substation),
            device("BR", DeviceKind.BREAKER, "BUS", "0", substation=substation),
            device("L1", DeviceKind.LINE, "0", "1"),
            device("FU-A", DeviceKind.FUSE, "1", "A"),
            device("FU-B", DeviceKind.FUSE, "1", "B"),
            device("SW", DeviceKind.SWITCH, "1", "2"),
            device("FU-C", DeviceKind.FUSE, "2", "C"),
            device("L2", DeviceKind.LINE, "2", "END"),
            device("NOP", DeviceKind.SWITCH, "A", "C", normal_open=True, is_open=True),
        ],
        feeders=[Feeder(f"{substation} 1", substation, f"BR-{side}")],
        premises=[
            Premise(
                f"P-{account}",
                f"{side}-{fuse}",
                place,
                f"{account} {substation} Street",
                Customer(account, f"Customer {account}", f"+8491{x:03.0f}{i:04d}", None, "vi"),
                meter_id=meter(account),
            )
            for i, (fuse, account) in enumerate((f, a) for f in FUSES for a in accounts(side, f))
        ],
    )


def two_region_grid() -> GridModel:
    north, south = _side("N", 0), _side("S", 1)
    tie = Device(
        "TIE",
        DeviceKind.SWITCH,
        "N-END",
        "S-END",
        ((106.705, 10.77),),
        normal_open=True,
        is_open=True,
    )
    return GridModel(
        substations=north.substations + south.substations,
        nodes=north.nodes + south.nodes,
        devices=[*north.devices, *south.devices, tie],
        feeders=north.feeders + south.feeders,
        premises=north.premises + south.premises,
    )


def operate(url: str, asset_ref: str, *, is_open: bool) -> None:
    """A dispatcher opens or closes the device, an hour ago."""
    with session_scope(session_factory(url)) as session:
        switching.operate(
            session,
            asset_ref,
            is_open=is_open,
            occurred_at=datetime.now(UTC) - timedelta(hours=1),
            source=SwitchSource.DISPATCHER,
            actor="dispatcher-1",
        )
