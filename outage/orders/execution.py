"""Carrying out an order's steps, strictly one after the other.

A step that opens or closes a device operates it (`outage.grid.switching.operate`, source
`order`), so the switching log says which order and step did it; a "verify" or "tag" step
is recorded as done. Closing a loop is checked again on the network as it is now.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage.grid import switching
from outage.grid.enums import SwitchSource
from outage.orders.enums import OPERATING, OrderState, StepAction, StepState
from outage.orders.errors import NotYours, OrderConflict, OrderNotFound
from outage.orders.models import SwitchingOrder, SwitchingStep
from outage.orders.notices import tell_restored
from outage.orders.schemas import OrderOut
from outage.orders.service import lock, order_out, steps_of
from outage.orders.simulation import is_loop


@dataclass(frozen=True)
class Executor:
    """Who carries out a step: a name for the log, and the crew when it is a crew member
    (who may confirm only the steps of orders assigned to their crew)."""

    name: str
    crew_id: int | None = None
    restricted: bool = False
    """Holds the permission only for the crew's own orders."""


def check_crew(order: SwitchingOrder, executor: Executor) -> None:
    if executor.restricted and (order.crew_id is None or order.crew_id != executor.crew_id):
        raise NotYours(f"order {order.id} is not assigned to your crew")


def _next_step(order_id: int, steps: list[tuple[SwitchingStep, str]], position: int) -> str:
    """The step's device, if it is the one to carry out now; 404 or 409 otherwise."""
    by_position = {step.position: (step, ref) for step, ref in steps}
    if position not in by_position:
        raise OrderNotFound(f"order {order_id} has no step {position}")
    step, ref = by_position[position]
    if step.state is StepState.DONE:
        raise OrderConflict(f"step {position} of order {order_id} is already done")
    if step.state is StepState.COMMANDED:
        raise OrderConflict(
            f"step {position} of order {order_id} was sent to SCADA and awaits its confirmation"
        )
    before = [
        s.position for s, _ in steps if s.position < position and s.state is not StepState.DONE
    ]
    if before:
        raise OrderConflict(
            f"step {position} of order {order_id} comes after step {before[0]}, which is not done"
        )
    return ref


def execute_step(
    session: Session,
    order_id: int,
    position: int,
    *,
    executor: Executor,
    expected_version: int | None,
    topology: Topology,
    now: datetime,
) -> OrderOut:
    """Carry out (or confirm as carried out) step `position` of a started order
    (`topology`: the network as it is before the step)."""
    order = lock(
        session,
        order_id,
        expected_version=expected_version,
        states={OrderState.IN_PROGRESS},
        doing="have steps carried out",
    )
    check_crew(order, executor)
    steps = steps_of(session, order_id)
    ref = _next_step(order_id, steps, position)
    step = next(s for s, _ in steps if s.position == position)
    if step.action in OPERATING:
        if step.action is StepAction.CLOSE and not order.allow_loops and is_loop(topology, ref):
            raise OrderConflict(
                f"step {position} would close {ref} between two energised parts of the "
                f"network (a loop), which order {order_id} does not allow"
            )
        reason = f"order {order_id} step {position}"
        switching.operate(
            session,
            ref,
            is_open=step.action is StepAction.OPEN,
            occurred_at=now,
            source=SwitchSource.ORDER,
            actor=executor.name,
            reason=reason,
        )
        if step.action is StepAction.CLOSE:
            tell_restored(
                session,
                ref,
                energized=topology,
                at=now,
                actor=executor.name,
                reason=reason,
            )
    step.state = StepState.DONE
    step.executed_at, step.executed_by = now, executor.name
    order.updated_at = now
    session.flush()
    return order_out(session, order)
