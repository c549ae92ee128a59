"""The network as plain data, the common ground of importers, the database and the tracer.

Connectivity follows the CIM idea of connectivity nodes: every device (line section,
transformer, switch, fuse, breaker, ...) joins exactly two nodes, and premises hang off a
node. A switch in series with a line therefore gets a node of its own between the two.
"""

from dataclasses import dataclass, field
from enum import StrEnum


class DeviceKind(StrEnum):
    BREAKER = "breaker"
    RECLOSER = "recloser"
    FUSE = "fuse"
    SWITCH = "switch"
    DISCONNECTOR = "disconnector"
    TRANSFORMER = "transformer"
    LINE = "line"


PROTECTIVE_KINDS = frozenset({DeviceKind.BREAKER, DeviceKind.RECLOSER, DeviceKind.FUSE})
SWITCHING_KINDS = PROTECTIVE_KINDS | {DeviceKind.SWITCH, DeviceKind.DISCONNECTOR}

Coordinate = tuple[float, float]
"""(longitude, latitude) in WGS 84 (SRID 4326)."""


@dataclass(frozen=True)
class Substation:
    name: str
    location: Coordinate


@dataclass(frozen=True)
class Node:
    ref: str
    location: Coordinate
    voltage_kv: float
    substation: str | None = None
    is_source: bool = False
    """A point where power enters the modelled network (the upstream grid)."""


@dataclass(frozen=True)
class Device:
    asset_ref: str
    kind: DeviceKind
    from_node: str
    to_node: str
    path: tuple[Coordinate, ...]
    """A single point for equipment, the route for a line section."""
    normal_open: bool = False
    is_open: bool = False
    voltage_kv: float | None = None
    rating_kva: float | None = None
    """Apparent power it carries continuously: a transformer's nameplate, a line's thermal
    limit (sqrt(3) * rated voltage * ampacity)."""
    substation: str | None = None
    remote_controlled: bool = False
    """Operable from the control room (SCADA); otherwise a crew has to go there."""

    @property
    def is_protective(self) -> bool:
        return self.kind in PROTECTIVE_KINDS


@dataclass(frozen=True)
class Feeder:
    name: str
    substation: str
    head: str
    """asset_ref of the breaker that feeds it."""


@dataclass(frozen=True)
class Customer:
    account: str
    name: str
    phone: str
    """E.164."""
    email: str | None
    language: str
    """"vi" or "en"."""
    critical: str | None = None
    """Why this customer must be restored first, e.g. "hospital", "life_support"."""


@dataclass(frozen=True)
class Premise:
    ref: str
    node: str
    location: Coordinate
    address: str
    customer: Customer
    meter_id: str | None = None
    """The smart meter's id at the head-end; None when the premise has no smart meter."""
    load_kw: float | None = None
    """Estimated demand (active power), for the capacity checks of restoration by switching."""
    load_kvar: float | None = None
    """Estimated reactive demand; taken as 0 when only load_kw is known."""


@dataclass
class GridModel:
    substations: list[Substation] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    feeders: list[Feeder] = field(default_factory=list)
    premises: list[Premise] = field(default_factory=list)
