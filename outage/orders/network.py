"""What the check needs of the database besides the topology: the steps' devices, the
critical customers and the active hazards, read once per check."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from grid_topology.model import SWITCHING_KINDS, DeviceKind
from outage.grid.models import Customer, Device, GridNode, Premise
from outage.incidents.enums import IncidentKind
from outage.incidents.lifecycle import ACTIVE
from outage.incidents.models import Incident
from outage.orders.enums import OPERATING, StepAction
from outage.orders.errors import BadStep


@dataclass(frozen=True)
class StepDevice:
    id: int
    kind: DeviceKind


def step_devices(
    session: Session, steps: Iterable[tuple[int, StepAction, str]]
) -> Mapping[str, StepDevice]:
    """The devices of the steps (position, action, asset_ref), by asset_ref; an unknown
    device, or an operation on one that cannot be opened or closed, is refused (422)."""
    steps = list(steps)
    refs = {ref for _, _, ref in steps}
    found = {
        ref: StepDevice(id_, kind)
        for id_, ref, kind in session.execute(
            select(Device.id, Device.asset_ref, Device.kind).where(Device.asset_ref.in_(refs))
        )
    }
    for position, action, ref in steps:
        device = found.get(ref)
        if device is None:
            raise BadStep(f"step {position}: unknown device {ref!r}")
        if action in OPERATING and device.kind not in SWITCHING_KINDS:
            raise BadStep(
                f"step {position}: {ref!r} is a {device.kind}, which cannot be opened or closed"
            )
    return found


def critical_accounts(session: Session) -> frozenset[str]:
    rows = session.scalars(select(Customer.account).where(Customer.critical.is_not(None)))
    return frozenset(rows)


def hazard_sites(session: Session) -> dict[int, frozenset[str]]:
    """Active hazard incidents by id, with the nodes where each is (its device's terminals,
    or its premise's node)."""
    start, end, at = aliased(GridNode), aliased(GridNode), aliased(GridNode)
    rows = session.execute(
        select(Incident.id, start.ref, end.ref, at.ref)
        .outerjoin(Device, Device.id == Incident.device_id)
        .outerjoin(start, start.id == Device.from_node_id)
        .outerjoin(end, end.id == Device.to_node_id)
        .outerjoin(Premise, Premise.id == Incident.premise_id)
        .outerjoin(at, at.id == Premise.node_id)
        .where(Incident.kind == IncidentKind.HAZARD, Incident.status.in_(ACTIVE))
    )
    return {
        id_: frozenset(n for n in (a, b, c) if n is not None)
        for id_, a, b, c in rows
        if (a, b, c) != (None, None, None)
    }
