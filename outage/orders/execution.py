"""Carrying out an order's steps, strictly one after the other.

A step that opens or closes a device operates it (`outage.grid.switching.operate`, source
`order`), so the switching log says which order and step did it; a device already in the
state the step wants is left alone and the step is done, as the check simulates it (a
tripped device is still taken over, so it is switching, not an outage). A "verify" step
compares the device's live state with the one it expects and is refused if they differ;
a "tag" step is recorded as done. Closing a loop is checked again on the network as it
is now. With a SCADA adapter, the control room's step is sent as a command instead and
is done when a SCADA event shows the device in the commanded state (`confirm_by_scada`);
one not confirmed in time fails and holds the order (`outage.orders.timeouts`), and
carrying it out again retries it.

Both sides take the step's device row lock before the order's and hold it until they
commit: a SCADA event that comes back faster than the command's transaction commits waits
for it, and then finds the step commanded.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage.grid import switching
from outage.grid.enums import SwitchSource
from outage.grid.models import Device, SwitchOperation
from outage.orders.enums import OPERATING, OrderState, StepAction, StepState
from outage.orders.errors import NotYours, OrderConflict, OrderNotFound
from outage.orders.models import SwitchingOrder, SwitchingStep
from outage.orders.notices import tell_restored
from outage.orders.scada import ScadaAdapter
from outage.orders.schemas import OrderOut
from outage.orders.service import lock, order_out, steps_of
from outage.orders.simulation import is_loop, state_name

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


@dataclass(frozen=True)
class Networks:
    """The network as it is before a step: as operated (what an outage's device feeds)
    and energized (what has supply)."""

    operated: Topology
    energized: Topology


def _check_crew(order: SwitchingOrder, executor: Executor) -> None:
    if executor.restricted and (order.crew_id is None or order.crew_id != executor.crew_id):
        raise NotYours(f"order {order.id} is not assigned to your crew")


def _next_step(
    order_id: int, steps: list[tuple[SwitchingStep, str]], position: int, *, by_hand: bool
) -> tuple[SwitchingStep, str]:
    """The step and its device, if it is the one to carry out now; 404 or 409 otherwise.
    A step sent to SCADA may still be confirmed by hand (the field did it, SCADA did not
    say); a failed one may be carried out again."""
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
    return step, ref


def lock_device_of(session: Session, order_id: int, position: int) -> None:
    """Lock the step's device before the order, as a SCADA confirmation does, so the two
    never wait for each other crosswise; the lock holds until the caller commits."""
    session.execute(
        select(Device.id)
        .join(SwitchingStep, SwitchingStep.device_id == Device.id)
        .where(SwitchingStep.order_id == order_id, SwitchingStep.position == position)
        .with_for_update(of=Device)
    )


def as_commanded(
    session: Session, topology: Topology, *, besides: int, now: datetime, late_within: timedelta
) -> Topology:
    """The network with the closings other orders sent to SCADA taken as done: SCADA may
    carry them out any moment, so a closing checked without them could make a loop with
    one of them. A closing whose step failed unconfirmed counts while a late confirmation
    of it would (`late_within` of its command): SCADA may still carry it out."""
    links = topology.network.links
    closing = {
        ref: False
        for ref in session.scalars(
            select(Device.asset_ref)
            .join(SwitchingStep, SwitchingStep.device_id == Device.id)
            .join(SwitchingOrder, SwitchingOrder.id == SwitchingStep.order_id)
            .where(
                SwitchingStep.action == StepAction.CLOSE,
                SwitchingStep.order_id != besides,
                or_(
                    and_(
                        SwitchingStep.state == StepState.COMMANDED,
                        SwitchingOrder.state == OrderState.IN_PROGRESS,
                    ),
                    and_(
                        SwitchingStep.state == StepState.FAILED,
                        SwitchingStep.commanded_at >= now - late_within,
                        SwitchingOrder.state.in_([OrderState.IN_PROGRESS, OrderState.HELD]),
                    ),
                ),
            )
        )
        if ref in links and links[ref].is_open
    }
    return topology.switched(closing) if closing else topology


def _device(session: Session, step: SwitchingStep) -> Device:
    """The step's device as it is now, locked so its live state cannot change meanwhile."""
    device = session.get(Device, step.device_id, with_for_update=True, populate_existing=True)
    assert device is not None  # steps reference devices
    return device


def _verify(order_id: int, step: SwitchingStep, device: Device) -> None:
    """A verify step whose device is not in the state it expects is refused (409)."""
    if step.expect_open is not None and device.is_open != step.expect_open:
        raise OrderConflict(
            f"step {step.position} of order {order_id} verifies {device.asset_ref} is "
            f"{state_name(step.expect_open)}, but it is {state_name(device.is_open)}"
        )


def _already(step: SwitchingStep, device: Device) -> bool:
    """The device is already in the state the step wants, held so by an operator (a
    tripped device is not: the order takes it over)."""
    is_open = step.action is StepAction.OPEN
    tripped = switching.is_tripped(
        device.kind, device.is_open, device.normal_open, device.state_source
    )
    return device.is_open == is_open and not tripped


def _done(step: SwitchingStep, *, at: datetime, by: str, remark: str | None = None) -> None:
    step.state = StepState.DONE
    step.executed_at, step.executed_by = at, by
    step.failed_at, step.remark = None, remark


def command_id(order_id: int, step: SwitchingStep) -> str:
    """The first command of a step is `order-N-step-K`; a retry after a failure is a new
    command, `order-N-step-K-try-2`, ..., so SCADA does not take it for the first again."""
    base = f"order-{order_id}-step-{step.position}"
    return base if step.commands <= 1 else f"{base}-try-{step.commands}"


def execute_step(
    session: Session,
    order_id: int,
    position: int,
    *,
    executor: Executor,
    expected_version: int | None,
    networks: Networks,
    now: datetime,
    late_within: timedelta,
    scada: ScadaAdapter | None = None,
    by_hand: bool = False,
) -> OrderOut:
    """Carry out step `position` of a started order, or confirm it carried out, or retry
    the failed step of a held order (which goes on again). With `scada`, an operation not
    confirmed by hand (nor by a crew) is sent as a command and the step waits for SCADA.
    A closing is checked for a loop with the closings other orders have sent to SCADA
    taken as done (`as_commanded`, `late_within`: how long SCADA may still confirm a
    command after its step failed)."""
    lock_device_of(session, order_id, position)
    order = lock(
        session,
        order_id,
        expected_version=expected_version,
        states={OrderState.IN_PROGRESS, OrderState.HELD},
        doing="have steps carried out",
    )
    _check_crew(order, executor)
    by_hand = by_hand or executor.restricted
    step, ref = _next_step(order_id, steps_of(session, order_id), position, by_hand=by_hand)
    device = _device(session, step)
    order.updated_at = now
    order.state = OrderState.IN_PROGRESS
    if step.action is StepAction.VERIFY:
        _verify(order_id, step, device)
    if step.action not in OPERATING:
        _done(step, at=now, by=executor.name)
    elif _already(step, device):
        already = f"{ref} was already {state_name(device.is_open)}: nothing operated"
        _done(step, at=now, by=executor.name, remark=already)
    else:
        if (
            step.action is StepAction.CLOSE
            and not order.allow_loops
            and is_loop(
                as_commanded(
                    session,
                    networks.energized,
                    besides=order_id,
                    now=now,
                    late_within=late_within,
                ),
                ref,
            )
        ):
            raise OrderConflict(
                f"step {position} would close {ref} between two energised parts of the "
                f"network (a loop), which order {order_id} does not allow"
            )
        if scada is not None and not by_hand:
            step.commands += 1
            scada.send(ref, step.action is StepAction.OPEN, command_id=command_id(order_id, step))
            step.state, step.commanded_at = StepState.COMMANDED, now
            step.failed_at, step.remark = None, None
        else:
            _operate(session, order, step, ref, networks=networks, at=now, actor=executor.name)
            _done(step, at=now, by=executor.name)
    session.flush()
    return order_out(session, order)


STEP_REASON = "order {order} step {position}"
"""How the switching log's reason names the order's step that operated a device, for a
person (the operation's `order_id` and `step_position` say it for a query)."""


def moved_by(session: Session, order_id: int) -> frozenset[str]:
    """The devices whose state the order's steps changed, from the switching log: a step
    done, or a failed one whose device SCADA reported changed after all."""
    return frozenset(
        session.scalars(
            select(Device.asset_ref)
            .join(SwitchOperation, SwitchOperation.device_id == Device.id)
            .where(SwitchOperation.order_id == order_id, SwitchOperation.version.is_not(None))
        )
    )


def _operate(
    session: Session,
    order: SwitchingOrder,
    step: SwitchingStep,
    ref: str,
    *,
    networks: Networks,
    at: datetime,
    actor: str,
    late: bool = False,
) -> None:
    """Operate the step's device as the order's, and tell the customers it gives supply
    back to (`networks`: the network as it was just before)."""
    reason = STEP_REASON.format(order=order.id, position=step.position)
    if late:
        reason += ", confirmed by SCADA after the step failed"
    switching.operate(
        session,
        ref,
        is_open=step.action is StepAction.OPEN,
        occurred_at=at,
        source=SwitchSource.ORDER,
        actor=actor,
        reason=reason,
        order_step=switching.OrderStep(order.id, step.position),
    )
    if step.action is StepAction.CLOSE:
        tell_restored(
            session,
            ref,
            operated=networks.operated,
            energized=networks.energized,
            at=at,
            actor=actor,
            reason=reason,
        )


def confirm_by_scada(
    session: Session,
    asset_ref: str,
    *,
    is_open: bool,
    at: datetime,
    late_within: timedelta,
    networks: Callable[[], Networks],
) -> None:
    """A SCADA event shows the device open or closed: the step commanded so on a started
    order is done. The operation is recorded as the order's too, so an opened breaker
    counts as switching, not as a trip (`networks`: the network before the event, asked
    for only when a step is confirmed). The device's row lock is taken first: a command
    whose transaction has not committed yet is waited for, then its step is seen.

    A confirmation after the step failed (its time ran out) is recorded all the same, as
    the order's operation: the device did change. It counts only when it happened after
    the command and within `late_within` of it, so a trip hours later is not taken for
    it. The step stays failed and the order held, with a remark saying so; the dispatcher
    then confirms the step, which finds the device already so and operates nothing."""
    action = StepAction.OPEN if is_open else StepAction.CLOSE
    device_ids = session.scalars(
        select(Device.id).where(Device.asset_ref == asset_ref).with_for_update()
    ).all()
    found = session.execute(
        select(SwitchingStep.order_id, SwitchingStep.position)
        .join(SwitchingOrder, SwitchingOrder.id == SwitchingStep.order_id)
        .where(
            SwitchingStep.device_id.in_(device_ids),
            SwitchingStep.action == action,
            or_(
                SwitchingStep.state == StepState.COMMANDED,
                and_(
                    SwitchingStep.state == StepState.FAILED,
                    SwitchingStep.commanded_at <= at,
                    SwitchingStep.commanded_at >= at - late_within,
                ),
            ),
            SwitchingOrder.state.in_([OrderState.IN_PROGRESS, OrderState.HELD]),
        )
    ).all()
    for order_id, position in found:
        order = lock(session, order_id)
        step = next(s for s, _ in steps_of(session, order_id) if s.position == position)
        if step.state is StepState.COMMANDED and order.state is OrderState.IN_PROGRESS:
            _operate(session, order, step, asset_ref, networks=networks(), at=at, actor=SCADA_ACTOR)
            _done(step, at=at, by=SCADA_ACTOR)
        elif step.state is StepState.FAILED and order.state is OrderState.HELD:
            _operate(
                session,
                order,
                step,
                asset_ref,
                networks=networks(),
                at=at,
                actor=SCADA_ACTOR,
                late=True,
            )
            step.remark = (
                f"{step.remark}; SCADA reported {asset_ref} {state_name(is_open)} at "
                f"{at.isoformat(timespec='seconds')}, after that: confirm the step"
            )
        else:
            continue
        order.updated_at = at
    session.flush()
