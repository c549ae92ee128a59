"""The network as it was operated at a past moment, rebuilt from the switching log.

Reliability records need who was below a device when an outage began, not who is below
it today: a feeder transferred through a tie before a breaker tripped put the
transferred customers under that breaker. Every change of a device's state is an
operation in `switch_operations`, so the state at any moment follows from the log:

- A device's state at `t` is that of its latest operation (by the time it happened) at
  or before `t`: an operation recorded late takes its place in history.
- Before its first operation a device was as that operation found it: the opposite of
  the operation's state if the operation changed it, else the same. The first operation
  *recorded* is the one that saw the state before all others, since an operation
  recorded late never changes the live state when a later one stands. (The one case
  this misreads: a protective device imported open, which an operator then held open;
  its state before counts as closed.)
- A device never operated is as it is now.

As `LiveTopology.get`, the answer is the network as operated: a protective device that
protection opened (no operator did) counts as closed, so an outage's customers are
those its device fed.
"""

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_topology.model import DeviceKind
from grid_topology.topology import Topology
from outage.grid.enums import SwitchSource
from outage.grid.models import Device, SwitchOperation
from outage.grid.switching import OPERATORS, is_tripped


@dataclass(frozen=True)
class Operation:
    """One row of the switching log, as far as the state it left matters."""

    is_open: bool
    occurred_at: datetime
    source: SwitchSource
    changed: bool
    """It changed the live state when it was recorded (it produced a version)."""


@dataclass(frozen=True)
class DeviceLog:
    """A device's operations, in the order they were recorded."""

    asset_ref: str
    kind: DeviceKind
    normal_open: bool
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class StateAt:
    is_open: bool
    source: SwitchSource | None
    """Who set the state, as `devices.state_source` would have held it; None before the
    first operation."""


def state_at(operations: Sequence[Operation], moment: datetime) -> StateAt | None:
    """The state the operations (in recording order) leave a device in at `moment`;
    None for a device never operated (it is as it is now)."""
    if not operations:
        return None
    first = operations[0]
    state = StateAt(not first.is_open if first.changed else first.is_open, None)
    in_time = sorted(
        (op for op in operations if op.occurred_at <= moment), key=lambda op: op.occurred_at
    )
    for op in in_time:
        # The same rule as `switching.operate`: an operator confirming a state takes it
        # over; SCADA confirming an operator's step leaves it the operator's.
        if op.is_open != state.is_open or (
            op.source in OPERATORS and state.source not in OPERATORS
        ):
            state = StateAt(op.is_open, op.source)
    return state


def operated_at(log: DeviceLog, moment: datetime) -> bool | None:
    """Whether the device was open at `moment` as operated (a protection trip counts as
    closed); None for a device never operated."""
    state = state_at(log.operations, moment)
    if state is None:
        return None
    return state.is_open and not is_tripped(log.kind, state.is_open, log.normal_open, state.source)


def switching_log(session: Session) -> list[DeviceLog]:
    """Every operated device's log."""
    rows = session.execute(
        select(
            Device.asset_ref,
            Device.kind,
            Device.normal_open,
            SwitchOperation.is_open,
            SwitchOperation.occurred_at,
            SwitchOperation.source,
            SwitchOperation.version,
        )
        .join(SwitchOperation, SwitchOperation.device_id == Device.id)
        .order_by(Device.asset_ref, SwitchOperation.id)
    )
    logs: dict[str, tuple[DeviceKind, bool, list[Operation]]] = {}
    for ref, kind, normal_open, is_open, occurred_at, source, version in rows:
        _, _, operations = logs.setdefault(ref, (kind, normal_open, []))
        operations.append(Operation(is_open, occurred_at, source, version is not None))
    return [
        DeviceLog(ref, kind, normal_open, tuple(operations))
        for ref, (kind, normal_open, operations) in logs.items()
    ]


class NetworkHistory:
    """The network as operated at past moments, derived from one topology of now.

    Moments with the same switching state share one topology: a year of incidents
    re-orients once per state the network was in, not once per incident, and the log is
    read once per period between two operations.
    """

    def __init__(self, now: Topology, log: Sequence[DeviceLog]) -> None:
        self._now = now
        self._log = [entry for entry in log if entry.asset_ref in now.network.links]
        # The state changes only at these moments: between two of them it is one state.
        self._times = sorted({op.occurred_at for entry in self._log for op in entry.operations})
        self._by_period: dict[int, Topology] = {}
        self._by_changes: dict[frozenset[tuple[str, bool]], Topology] = {}

    @classmethod
    def load(cls, session: Session, now: Topology) -> "NetworkHistory":
        return cls(now, switching_log(session))

    def changes_at(self, moment: datetime) -> Mapping[str, bool]:
        """The devices whose state at `moment` differs from now's (asset_ref -> is_open)."""
        links = self._now.network.links
        changes = {}
        for entry in self._log:
            is_open = operated_at(entry, moment)
            if is_open is not None and links[entry.asset_ref].is_open != is_open:
                changes[entry.asset_ref] = is_open
        return changes

    def at(self, moment: datetime) -> Topology:
        """The network as operated at `moment`."""
        period = bisect_right(self._times, moment)
        if period not in self._by_period:
            changes = self.changes_at(moment)
            key = frozenset(changes.items())
            if key not in self._by_changes:
                self._by_changes[key] = self._now.switched(changes) if changes else self._now
            self._by_period[period] = self._by_changes[key]
        return self._by_period[period]
