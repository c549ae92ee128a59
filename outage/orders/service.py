"""Drafting, checking and moving a switching order through its states.

Every function takes the caller's session and never commits: a refusal anywhere leaves
nothing half-applied. The check simulates the steps not yet done on the live network
(`outage.orders.simulation`); it runs when an order is drafted or edited, on demand, and
again at approval and at start, since the network may have changed since.
"""

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage import locks
from outage.grid.models import Device
from outage.grid.service import Retiring
from outage.orders.enums import HOLDING, OPERATING, OrderState, StepAction, StepState
from outage.orders.errors import (
    CheckRefused,
    InvalidOrder,
    NotYours,
    OrderConflict,
    OrderNotFound,
    StaleOrder,
)
from outage.orders.models import FK_CREW, FK_INCIDENT, SwitchingOrder, SwitchingStep
from outage.orders.network import critical_accounts, hazard_sites, step_devices
from outage.orders.notices import cancel_notices, schedule_notices
from outage.orders.schemas import DeviceState, OrderIn, OrderOut, OrderPatch, StepIn, StepOut
from outage.orders.simulation import PlannedStep, Simulation, simulate
from outage.settings import Settings


def _steps_of_orders(
    session: Session, order_ids: Collection[int]
) -> dict[int, list[tuple[SwitchingStep, str]]]:
    """The steps of these orders in position order, with their devices, in one query."""
    rows = session.execute(
        select(SwitchingStep, Device.asset_ref)
        .join(Device, Device.id == SwitchingStep.device_id)
        .where(SwitchingStep.order_id.in_(order_ids))
        .order_by(SwitchingStep.order_id, SwitchingStep.position)
    )
    found: dict[int, list[tuple[SwitchingStep, str]]] = {order_id: [] for order_id in order_ids}
    for step, ref in rows.tuples():
        found[step.order_id].append((step, ref))
    return found


def steps_of(session: Session, order_id: int) -> list[tuple[SwitchingStep, str]]:
    return _steps_of_orders(session, [order_id])[order_id]


def order_out(
    session: Session,
    order: SwitchingOrder,
    steps_found: list[tuple[SwitchingStep, str]] | None = None,
) -> OrderOut:
    """The order as answered; `steps_found` when already read (a list of orders)."""
    found = steps_of(session, order.id) if steps_found is None else steps_found
    steps = [
        StepOut(
            position=step.position,
            action=step.action,
            asset_ref=ref,
            note=step.note,
            expect=_device_state(step.expect_open),
            state=step.state,
            commanded_at=step.commanded_at,
            executed_at=step.executed_at,
            executed_by=step.executed_by,
            failed_at=step.failed_at,
            remark=step.remark,
        )
        for step, ref in found
    ]
    return OrderOut(
        id=order.id,
        title=order.title,
        reason=order.reason,
        state=order.state,
        allow_loops=order.allow_loops,
        created_by=order.created_by,
        approved_by=order.approved_by,
        approved_at=order.approved_at,
        started_at=order.started_at,
        finished_at=order.finished_at,
        finished_by=order.finished_by,
        planned_start=order.planned_start,
        planned_end=order.planned_end,
        incident_id=order.incident_id,
        crew_id=order.crew_id,
        check=order.checked,
        checked_at=order.checked_at,
        created_at=order.created_at,
        version=order.version,
        steps=steps,
    )


def _device_state(is_open: bool | None) -> DeviceState | None:
    if is_open is None:
        return None
    return "open" if is_open else "closed"


def get_order(session: Session, order_id: int) -> OrderOut:
    order = session.get(SwitchingOrder, order_id)
    if order is None:
        raise OrderNotFound(f"no switching order {order_id}")
    return order_out(session, order)


def list_orders(
    session: Session,
    *,
    states: Collection[OrderState] | None = None,
    crew_id: int | None = None,
    incident_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[OrderOut]:
    """Newest first."""
    query = select(SwitchingOrder).order_by(SwitchingOrder.id.desc())
    if states:
        query = query.where(SwitchingOrder.state.in_(states))
    if crew_id is not None:
        query = query.where(SwitchingOrder.crew_id == crew_id)
    if incident_id is not None:
        query = query.where(SwitchingOrder.incident_id == incident_id)
    orders = session.scalars(query.limit(limit).offset(offset)).all()
    steps = _steps_of_orders(session, [order.id for order in orders])
    return [order_out(session, order, steps[order.id]) for order in orders]


def lock(
    session: Session,
    order_id: int,
    *,
    expected_version: int | None = None,
    states: Collection[OrderState] | None = None,
    doing: str = "change",
) -> SwitchingOrder:
    """The order, locked for this transaction; refused if stale or in another state."""
    order = session.get(SwitchingOrder, order_id, with_for_update=True)
    if order is None:
        raise OrderNotFound(f"no switching order {order_id}")
    if expected_version is not None and expected_version != order.version:
        raise StaleOrder(
            f"order {order_id} is at version {order.version}, not {expected_version}: read it again"
        )
    if states is not None and order.state not in states:
        allowed = " or ".join(sorted(s.value for s in states))
        raise OrderConflict(
            f"order {order_id} is {order.state.value}: only an order that is {allowed} may {doing}"
        )
    return order


def _run_check(
    session: Session, order: SwitchingOrder, topology: Topology, now: datetime
) -> Simulation:
    """Simulate the steps not done yet on the network as it is now, and keep the figures."""
    remaining = [
        PlannedStep(step.position, step.action, ref, step.expect_open)
        for step, ref in steps_of(session, order.id)
        if step.state is not StepState.DONE
    ]
    simulation = simulate(
        topology,
        remaining,
        allow_loops=order.allow_loops,
        critical=critical_accounts(session),
        hazards=hazard_sites(session),
    )
    order.checked = simulation.figures()
    order.checked_at = now
    return simulation


def _expectations(steps: Sequence[StepIn], topology: Topology) -> list[bool | None]:
    """What each verify step expects (is_open): as it says, or else the state the steps
    before it leave the device in on `topology`, as the check simulates them."""
    links = topology.network.links
    states: dict[str, bool] = {}
    expected: list[bool | None] = []
    for step in steps:
        if step.asset_ref not in states and step.asset_ref in links:
            states[step.asset_ref] = links[step.asset_ref].is_open
        if step.action in OPERATING:
            states[step.asset_ref] = step.action is StepAction.OPEN
        if step.action is not StepAction.VERIFY:
            expected.append(None)
        elif step.expect is not None:
            expected.append(step.expect == "open")
        else:
            expected.append(states.get(step.asset_ref, False))
    return expected


def _replace_steps(
    session: Session, order: SwitchingOrder, steps: Sequence[StepIn], topology: Topology
) -> None:
    numbered = [(i, s.action, s.asset_ref) for i, s in enumerate(steps, start=1)]
    devices = step_devices(session, numbered)
    for old, _ in steps_of(session, order.id):
        session.delete(old)
    session.flush()
    session.add_all(
        SwitchingStep(
            order_id=order.id,
            position=position,
            action=step.action,
            device_id=devices[step.asset_ref].id,
            note=step.note,
            expect_open=expect_open,
            state=StepState.PENDING,
            commands=0,
        )
        for position, (step, expect_open) in enumerate(
            zip(steps, _expectations(steps, topology), strict=True), start=1
        )
    )
    session.flush()


def _flush_references(session: Session, order: SwitchingOrder) -> None:
    """Store the order's incident and crew; one that does not exist is refused (422)."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        if FK_INCIDENT in str(exc.orig):
            raise InvalidOrder(f"no incident {order.incident_id}") from exc
        if FK_CREW in str(exc.orig):
            raise InvalidOrder(f"no crew {order.crew_id}") from exc
        raise


def _refuse(simulation: Simulation) -> None:
    if simulation.refusals:
        raise CheckRefused("; ".join(simulation.refusals))


def draft(
    session: Session, order_in: OrderIn, *, actor: str, topology: Topology, now: datetime
) -> OrderOut:
    """A new draft, checked at once: an unknown device or a loop not allowed is refused."""
    order = SwitchingOrder(
        title=order_in.title,
        reason=order_in.reason,
        state=OrderState.DRAFT,
        allow_loops=order_in.allow_loops,
        created_by=actor,
        planned_start=order_in.planned_start,
        planned_end=order_in.planned_end,
        incident_id=order_in.incident_id,
        crew_id=order_in.crew_id,
        checked={},
        checked_at=now,
    )
    session.add(order)
    _flush_references(session, order)
    _replace_steps(session, order, order_in.steps, topology)
    _refuse(_run_check(session, order, topology, now))
    session.flush()
    return order_out(session, order)


def edit(
    session: Session, order_id: int, patch: OrderPatch, *, topology: Topology, now: datetime
) -> OrderOut:
    """Change a draft and check it again."""
    order = lock(
        session,
        order_id,
        expected_version=patch.expected_version,
        states={OrderState.DRAFT},
        doing="be edited",
    )
    fields = patch.model_dump(exclude_unset=True, exclude={"expected_version", "steps"})
    for name, value in fields.items():
        setattr(order, name, value)
    _flush_references(session, order)
    if patch.steps is not None:
        _replace_steps(session, order, patch.steps, topology)
    _refuse(_run_check(session, order, topology, now))
    session.flush()
    return order_out(session, order)


def check(session: Session, order_id: int, *, topology: Topology, now: datetime) -> OrderOut:
    """Simulate the steps not done yet on the network as it is now; the figures are kept
    with the order, refusals included (a check reports, it does not refuse)."""
    order = lock(session, order_id)
    _run_check(session, order, topology, now)
    session.flush()
    return order_out(session, order)


def _hold_devices(session: Session, order: SwitchingOrder) -> None:
    """Take the order's devices: refused (409) while another approved or started order
    holds one of them. The devices' locks make two such requests go one at a time."""
    device_ids = sorted({step.device_id for step, _ in steps_of(session, order.id)})
    for device_id in device_ids:
        session.execute(
            select(func.pg_advisory_xact_lock(int(locks.LockSpace.SWITCHING_DEVICE), device_id))
        )
    other = session.execute(
        select(SwitchingOrder.id, SwitchingOrder.state, Device.asset_ref)
        .join(SwitchingStep, SwitchingStep.order_id == SwitchingOrder.id)
        .join(Device, Device.id == SwitchingStep.device_id)
        .where(
            SwitchingOrder.state.in_(HOLDING),
            SwitchingOrder.id != order.id,
            SwitchingStep.device_id.in_(device_ids),
        )
        .order_by(SwitchingOrder.id, Device.asset_ref)
        .limit(1)
    ).first()
    if other is not None:
        raise OrderConflict(
            f"order {other.id} ({other.state.value}) already holds device {other.asset_ref!r}: "
            f"finish or abort it before order {order.id}"
        )


def _recheck(
    session: Session, order: SwitchingOrder, topology: Topology, now: datetime
) -> Simulation:
    simulation = _run_check(session, order, topology, now)
    if simulation.refusals:
        raise OrderConflict(
            f"order {order.id} no longer passes its check: " + "; ".join(simulation.refusals)
        )
    return simulation


def approve(
    session: Session,
    order_id: int,
    *,
    actor: str,
    may_approve: bool,
    expected_version: int | None,
    topology: Topology,
    operated: Topology,
    now: datetime,
    settings: Settings,
    automatic: bool = False,
) -> OrderOut:
    """A second person approves a draft (`may_approve`: the caller's role is one that
    approves); checked again, and refused while another order holds one of its devices.
    With a planned window ahead, the customers its openings interrupt get the
    planned-outage notice (`topology`: the network as it is, `operated`: as operated).

    `automatic`: the system approves the order it drafted itself (self-healing, which a
    setting turns on: that setting stands for the second person); the checks still hold."""
    order = lock(
        session,
        order_id,
        expected_version=expected_version,
        states={OrderState.DRAFT},
        doing="be approved",
    )
    if not may_approve:
        raise NotYours("your role may not approve switching orders")
    if actor == order.created_by and not automatic:
        raise NotYours(f"order {order_id} was drafted by you: another person must approve it")
    simulation = _recheck(session, order, topology, now)
    _hold_devices(session, order)
    steps = {step.position: step for step, _ in steps_of(session, order.id)}
    schedule_notices(
        session,
        order,
        simulation,
        steps,
        actor=actor,
        operated=operated,
        now=now,
        settings=settings,
    )
    order.state = OrderState.APPROVED
    order.approved_by = actor
    order.approved_at = now
    session.flush()
    return order_out(session, order)


def start(
    session: Session,
    order_id: int,
    *,
    expected_version: int | None,
    topology: Topology,
    now: datetime,
) -> OrderOut:
    """Start an approved order, checked once more on the network as it is now."""
    order = lock(
        session,
        order_id,
        expected_version=expected_version,
        states={OrderState.APPROVED},
        doing="be started",
    )
    _recheck(session, order, topology, now)
    _hold_devices(session, order)
    order.state = OrderState.IN_PROGRESS
    order.started_at = now
    session.flush()
    return order_out(session, order)


def complete(
    session: Session, order_id: int, *, actor: str, expected_version: int | None, now: datetime
) -> OrderOut:
    """Close an order whose steps are all done."""
    order = lock(
        session,
        order_id,
        expected_version=expected_version,
        states={OrderState.IN_PROGRESS},
        doing="be completed",
    )
    left = [
        step.position for step, _ in steps_of(session, order_id) if step.state is not StepState.DONE
    ]
    if left:
        raise OrderConflict(
            f"order {order_id} has steps not done: {', '.join(str(p) for p in left)}"
        )
    order.state = OrderState.COMPLETED
    order.finished_at, order.finished_by = now, actor
    session.flush()
    return order_out(session, order)


def abort(
    session: Session, order_id: int, *, actor: str, expected_version: int | None, now: datetime
) -> OrderOut:
    """Call the order off; steps already done stay done (the devices are as they are), and
    its planned outages still ahead are cancelled."""
    order = lock(
        session,
        order_id,
        expected_version=expected_version,
        states={OrderState.DRAFT, *HOLDING},
        doing="be aborted",
    )
    cancel_notices(session, order_id)
    order.state = OrderState.ABORTED
    order.finished_at, order.finished_by = now, actor
    session.flush()
    return order_out(session, order)


def holding_retired(session: Session, retiring: Retiring) -> list[str]:
    """A re-import's guard: the devices it would retire that an approved or started order
    still has steps on."""
    rows = session.execute(
        select(Device.asset_ref, SwitchingOrder.id, SwitchingOrder.state)
        .join(SwitchingStep, SwitchingStep.device_id == Device.id)
        .join(SwitchingOrder, SwitchingOrder.id == SwitchingStep.order_id)
        .where(Device.asset_ref.in_(sorted(retiring.devices)), SwitchingOrder.state.in_(HOLDING))
        .distinct()
        .order_by(Device.asset_ref, SwitchingOrder.id)
    )
    return [
        f"device {ref} is on switching order {order_id} ({state})" for ref, order_id, state in rows
    ]
