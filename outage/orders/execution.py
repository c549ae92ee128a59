"""Carrying out an order's steps, strictly one after the other.

A step that opens or closes a device operates it (`outage.grid.switching.operate`, source
`order`), so the switching log says which order and step did it; a "verify" or "tag" step
is recorded as done. Closing a loop is checked again on the network as it is now. With a
SCADA adapter, the control room's step is sent as a command instead and is done when a
SCADA event shows the device in the commanded state (`confirm_by_scada`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage.grid import switching
from outage.grid.enums import SwitchSource
from outage.grid.models import Device
from outage.orders.enums import OPERATING, OrderState, StepAction, StepState
from outage.orders.errors import NotYours, OrderConflict, OrderNotFound
from outage.orders.models import SwitchingOrder, SwitchingStep
from outage.orders.notices import tell_restored
from outage.orders.scada import ScadaAdapter
from outage.orders.schemas import OrderOut
from outage.orders.service import lock, order_out, steps_of
from outage.orders.simulation import is_loop

SCADA_ACTOR = "scada"
"""Who carried out a step SCADA confirmed."""


@dataclass(frozen=True)
class Executor:
    """Who carries out a step: a name for the log, and the crew when it is a crew member
    (who may confirm only the steps of orders assigned to their crew)."""

    name: str
    crew_id: int | None = None
    restricted: bool = False
    """Holds the permission only for the crew's own orders."""


def _check_crew(order: SwitchingOrder, executor: Executor) -> None:
    if executor.restricted and (order.crew_id is None or order.crew_id != executor.crew_id):
        raise NotYours(f"order {order.id} is not assigned to your crew")


def _next_step(
    order_id: int, steps: list[tuple[SwitchingStep, str]], position: int, *, by_hand: bool
) -> str:
    """The step's device, if it is the one to carry out now; 404 or 409 otherwise. A step
    sent to SCADA may still be confirmed by hand (the field did it, SCADA did not say)."""
    by_position = {step.position: (step, ref) for step, ref in steps}
    if position not in by_position:
        raise OrderNotFound(f"order {order_id} has no step {position}")
    step, ref = by_position[position]
    if step.state is StepState.DONE:
        raise OrderConflict(f"step {position} of order {order_id} is already done")
    if step.state is StepState.COMMANDED and not by_hand:
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
    scada: ScadaAdapter | None = None,
    by_hand: bool = False,
) -> OrderOut:
    """Carry out step `position` of a started order, or confirm it carried out
    (`topology`: the network as it is before the step). With `scada`, an operation not
    confirmed by hand (nor by a crew) is sent as a command and the step waits for SCADA."""
    order = lock(
        session,
        order_id,
        expected_version=expected_version,
        states={OrderState.IN_PROGRESS},
        doing="have steps carried out",
    )
    _check_crew(order, executor)
    steps = steps_of(session, order_id)
    by_hand = by_hand or executor.restricted
    ref = _next_step(order_id, steps, position, by_hand=by_hand)
    step = next(s for s, _ in steps if s.position == position)
    order.updated_at = now
    if step.action in OPERATING:
        if step.action is StepAction.CLOSE and not order.allow_loops and is_loop(topology, ref):
            raise OrderConflict(
                f"step {position} would close {ref} between two energised parts of the "
                f"network (a loop), which order {order_id} does not allow"
            )
        if scada is not None and not by_hand:
            command_id = f"order-{order_id}-step-{position}"
            scada.send(ref, step.action is StepAction.OPEN, command_id=command_id)
            step.state, step.commanded_at = StepState.COMMANDED, now
            session.flush()
            return order_out(session, order)
        _operate(session, order, step, ref, topology=topology, at=now, actor=executor.name)
    step.state = StepState.DONE
    step.executed_at, step.executed_by = now, executor.name
    session.flush()
    return order_out(session, order)


def _operate(
    session: Session,
    order: SwitchingOrder,
    step: SwitchingStep,
    ref: str,
    *,
    topology: Topology,
    at: datetime,
    actor: str,
) -> None:
    """Operate the step's device as the order's, and tell the customers it gives supply
    back to (`topology`: the network as it was just before)."""
    reason = f"order {order.id} step {step.position}"
    switching.operate(
        session,
        ref,
        is_open=step.action is StepAction.OPEN,
        occurred_at=at,
        source=SwitchSource.ORDER,
        actor=actor,
        reason=reason,
    )
    if step.action is StepAction.CLOSE:
        tell_restored(session, ref, energized=topology, at=at, actor=actor, reason=reason)


def confirm_by_scada(
    session: Session,
    asset_ref: str,
    *,
    is_open: bool,
    at: datetime,
    topology: Callable[[], Topology],
) -> None:
    """A SCADA event shows the device open or closed: the step commanded so on a started
    order is done. The operation is recorded as the order's too, so an opened breaker
    counts as switching, not as a trip (`topology`: the network before the event, asked
    for only when a step is confirmed)."""
    action = StepAction.OPEN if is_open else StepAction.CLOSE
    found = session.execute(
        select(SwitchingStep.order_id, SwitchingStep.position)
        .join(SwitchingOrder, SwitchingOrder.id == SwitchingStep.order_id)
        .join(Device, Device.id == SwitchingStep.device_id)
        .where(
            Device.asset_ref == asset_ref,
            SwitchingStep.state == StepState.COMMANDED,
            SwitchingStep.action == action,
            SwitchingOrder.state == OrderState.IN_PROGRESS,
        )
    ).all()
    for order_id, position in found:
        order = lock(session, order_id)
        step = next(s for s, _ in steps_of(session, order_id) if s.position == position)
        _operate(session, order, step, asset_ref, topology=topology(), at=at, actor=SCADA_ACTOR)
        step.state = StepState.DONE
        step.executed_at, step.executed_by = at, SCADA_ACTOR
        order.updated_at = at
    session.flush()
