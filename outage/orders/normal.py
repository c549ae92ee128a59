"""Drafting the order that returns devices to their normal state.

The devices come from the abnormal-state view (`outage.grid.switching.abnormal_devices`):
those named, or every one an operator left so (a device protection tripped is an outage,
for its incident to restore). The steps break before they make: openings first, then
closings, so no step closes a loop between two feeders; an order that allows loops makes
before it breaks instead, so nobody loses supply on the way.
"""

from collections.abc import Collection
from datetime import datetime

from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage.grid.switching import abnormal_devices
from outage.orders.enums import StepAction
from outage.orders.errors import BadStep
from outage.orders.schemas import OrderIn, OrderOut, StepIn
from outage.orders.service import draft


def return_to_normal(
    session: Session,
    asset_refs: Collection[str] | None,
    *,
    allow_loops: bool,
    title: str | None,
    actor: str,
    topology: Topology,
    now: datetime,
    incident_id: int | None = None,
) -> OrderOut:
    """Draft an order returning `asset_refs` (None: every device an operator left out of
    its normal state) to normal, linked to `incident_id` when given; a device named that
    is in its normal state is refused."""
    abnormal = [d for d in abnormal_devices(session) if not d.tripped or asset_refs is not None]
    if asset_refs is not None:
        listed = {d.asset_ref: d for d in abnormal}
        missing = sorted(set(asset_refs) - listed.keys())
        if missing:
            raise BadStep(f"not out of their normal state: {', '.join(missing)}")
        wanted = set(asset_refs)
        abnormal = [d for d in abnormal if d.asset_ref in wanted]
    if not abnormal:
        raise BadStep("no device is out of its normal state")
    openings = [
        StepIn(action=StepAction.OPEN, asset_ref=d.asset_ref) for d in abnormal if d.normal_open
    ]
    closings = [
        StepIn(action=StepAction.CLOSE, asset_ref=d.asset_ref)
        for d in abnormal
        if not d.normal_open
    ]
    steps = closings + openings if allow_loops else openings + closings
    order = OrderIn(
        title=title or f"Return {len(steps)} device(s) to normal",
        reason="return to normal",
        steps=steps,
        allow_loops=allow_loops,
        incident_id=incident_id,
    )
    return draft(session, order, actor=actor, topology=topology, now=now)
