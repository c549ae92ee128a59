"""Self-healing: the system restores a new outage's customers by remote control.

With `restoration_automatic` on, an outage that began at a protective device protection
tripped gets, once, an order of the remote-controlled steps its plans begin with: of the
ranked plans, the one whose leading remote steps bring back the most customers (critical
ones weighted), ties to the better rank. The order holds those steps only, so it ends
when SCADA has done them; what needs a crew is left to the dispatcher, who reads the
plans again on the network as it then is. The system drafts, approves (`automatic`, the
setting standing for the second person) and starts the order with the order flow's own
checks, then sends its steps to SCADA one at a time as each is confirmed.

Nothing runs twice: an incident is taken under its row lock (skipped while another
engine holds it) and only if self-healing never looked at it and it never had a
restoration order; what was done with it is recorded (`HealingAttempt`: the order
started, or why none was), so the dispatcher can read it and it is not planned again.
An order's next step is sent under its device's row lock and then the order's (the order
the dispatcher's execution takes them in), and a step already sent or done is never sent
again, so a restart or a second engine picks up where the state in the database says.
A dispatcher aborts the order like any other; a refusal (SCADA not taking a command, a
check failing on a network changed since, a closing that would give supply to where an
active hazard is) holds the order with the reason.

Each incident and each order is handled in a savepoint of its own: one that fails, for
whatever reason, fails alone and never holds back the others. An order that fails is
held too, so a command it may already have sent is not sent again every run.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from grid_topology import restoration
from outage.errors import Conflict, DomainError, Invalid
from outage.grid.live import Views
from outage.grid.switching import tripped_devices
from outage.incidents.enums import IncidentKind
from outage.incidents.lifecycle import ACTIVE
from outage.incidents.models import Incident
from outage.orders.enums import OrderState, StepAction, StepState
from outage.orders.execution import (
    Executor,
    Networks,
    as_commanded,
    execute_step,
    lock_device_of,
)
from outage.orders.models import SwitchingOrder, SwitchingStep
from outage.orders.network import hazard_sites
from outage.orders.scada import ScadaAdapter
from outage.orders.service import approve, complete, lock, start, steps_of
from outage.orders.simulation import PlannedStep, simulate
from outage.restoration.enums import HealingOutcome
from outage.restoration.errors import HazardAhead
from outage.restoration.inputs import critical_of
from outage.restoration.models import HealingAttempt, RestorationOrder
from outage.restoration.service import Computed, compute, draft_plan, incident_of, version_of
from outage.settings import Settings

log = logging.getLogger(__name__)

ACTOR = "self-healing"
"""Who drafts, approves and carries out the automatic orders."""


@dataclass(frozen=True)
class Choice:
    rank: int
    steps: int
    """How many of the plan's first steps are remote-controlled."""
    weight: float
    """Customers those steps bring back, a critical one counting `critical_weight`."""


def remote_prefix(
    plans: list[restoration.Plan], data: restoration.GridData, critical_weight: float
) -> Choice | None:
    """The plan whose leading remote-controlled steps bring back the most (weighted)
    customers, and how many steps those are; None when no plan's do."""
    best: Choice | None = None
    for rank, plan in enumerate(plans, start=1):
        count = 0
        while count < len(plan.steps) and plan.steps[count].asset_ref in data.remote:
            count += 1
        back = [a for step in plan.steps[:count] for a in step.restored]
        weight = len(back) + (critical_weight - 1) * critical_of(data, back)
        if weight > 0 and (best is None or weight > best.weight):
            best = Choice(rank, count, weight)
    return best


_SETTLED = HealingAttempt.outcome.in_([HealingOutcome.STARTED, HealingOutcome.REFUSED])
"""Outcomes that end self-healing's interest in an incident; the others (nothing tripped
yet, no remote step yet) may change as SCADA and meters report, so they are looked at
again until `restoration_automatic_minutes` have passed."""


def _candidates(session: Session, since: datetime) -> list[int]:
    """Active outages on a device that began since `since`, that self-healing never looked
    at and that never had a restoration order."""
    return list(
        session.scalars(
            select(Incident.id)
            .where(
                Incident.kind == IncidentKind.OUTAGE,
                Incident.status.in_(ACTIVE),
                Incident.device_id.is_not(None),
                Incident.started_at >= since,
                ~exists().where(HealingAttempt.incident_id == Incident.id, _SETTLED),
                ~exists().where(RestorationOrder.incident_id == Incident.id),
            )
            .order_by(Incident.started_at, Incident.id)
        )
    )


def _claim(session: Session, incident_id: int) -> bool:
    """Lock the incident (False: another engine has it) and make sure it is still a
    candidate now that nobody else can look at it or order its restoration."""
    locked = session.scalar(
        select(Incident.id)
        .where(Incident.id == incident_id)
        .with_for_update(skip_locked=True, key_share=True)
    )
    if locked is None:
        return False
    return not session.scalar(
        select(
            exists().where(HealingAttempt.incident_id == incident_id, _SETTLED)
            | exists().where(RestorationOrder.incident_id == incident_id)
        )
    )


def heal(
    session: Session,
    *,
    network: Views,
    settings: Settings,
    now: datetime,
) -> list[int]:
    """Look once at every new outage: start the automatic order of one at a tripped device
    whose plans begin with remote steps that bring customers back, and record what was
    done with each; the ids of the orders started."""
    tripped = tripped_devices(session)
    started = []
    for incident_id in _candidates(session, now - settings.restoration_automatic_minutes):
        if not _claim(session, incident_id):
            continue
        attempt = _attempt(session, incident_id, tripped, network, settings, now)
        earlier = session.scalar(
            select(HealingAttempt).where(HealingAttempt.incident_id == incident_id)
        )
        if earlier is not None:
            session.delete(earlier)
            session.flush()
        session.add(attempt)
        if attempt.order_id is not None:
            started.append(attempt.order_id)
        elif attempt.outcome is HealingOutcome.REFUSED:
            log.warning(
                "self-healing left incident %d to the dispatcher: %s", incident_id, attempt.reason
            )
    session.flush()
    return started


def _attempt(
    session: Session,
    incident_id: int,
    tripped: frozenset[str],
    network: Views,
    settings: Settings,
    now: datetime,
) -> HealingAttempt:
    """Plan the incident and start its order, in a savepoint of its own: a refusal, or any
    failure, leaves nothing of it and is recorded as the reason nothing was done."""

    def looked(
        outcome: HealingOutcome, *, reason: str | None = None, order_id: int | None = None
    ) -> HealingAttempt:
        return HealingAttempt(
            incident_id=incident_id, at=now, outcome=outcome, reason=reason, order_id=order_id
        )

    try:
        with session.begin_nested():
            incident, device = incident_of(session, incident_id)
            found = compute(session, incident, device, network=network, settings=settings, now=now)
            if tripped.isdisjoint(found.fault.operated):
                return looked(
                    HealingOutcome.NOT_TRIPPED,
                    reason="no protective device tripped on the way to the fault",
                )
            choice = remote_prefix(found.plans, found.data, restoration.Options().critical_weight)
            if choice is None:
                return looked(
                    HealingOutcome.NOTHING_REMOTE,
                    reason="no plan begins with remote-controlled steps that bring customers back",
                )
            order_id = _start(session, incident_id, choice, found, network, settings, now)
    except DomainError as refusal:
        return looked(HealingOutcome.REFUSED, reason=str(refusal))
    except Exception as error:  # one incident the planner trips on must not stop the others
        log.exception("self-healing failed on incident %d", incident_id)
        return looked(HealingOutcome.REFUSED, reason=f"self-healing failed: {error!r}")
    return looked(HealingOutcome.STARTED, order_id=order_id)


def _start(
    session: Session,
    incident_id: int,
    choice: Choice,
    found: Computed,
    network: Views,
    settings: Settings,
    now: datetime,
) -> int:
    """Draft, approve and start the automatic order (the caller's savepoint makes it all or
    nothing)."""
    order = draft_plan(
        session,
        incident_id,
        choice.rank,
        found.plans[choice.rank - 1],
        version_of(network),
        actor=ACTOR,
        network=network,
        now=now,
        steps=choice.steps,
        automatic=True,
    )
    approve(
        session,
        order.id,
        actor=ACTOR,
        may_approve=True,
        expected_version=None,
        topology=network.energized,
        operated=network.operated,
        now=now,
        settings=settings,
        automatic=True,
    )
    start(session, order.id, expected_version=None, topology=network.energized, now=now)
    return order.id


def advance(
    session: Session,
    *,
    network: Views,
    scada: ScadaAdapter,
    now: datetime,
    late_within: timedelta,
) -> list[int]:
    """Send the next step of every automatic order in progress whose steps so far are
    done, and complete those with every step done; the ids of the orders that moved
    (`late_within`: how long SCADA may still confirm a command after its step failed).
    Each order in a savepoint of its own: one that fails is logged, held on its step with
    the reason (so a command already sent is not sent again every run), and the others go
    on."""
    order_ids = session.scalars(
        select(SwitchingOrder.id)
        .join(RestorationOrder, RestorationOrder.order_id == SwitchingOrder.id)
        .where(RestorationOrder.automatic, SwitchingOrder.state == OrderState.IN_PROGRESS)
        .order_by(SwitchingOrder.id)
    ).all()
    moved = []
    for order_id in order_ids:
        try:
            with session.begin_nested():
                if _advance(session, order_id, network, scada, now=now, late_within=late_within):
                    moved.append(order_id)
        except Exception as error:  # one order that cannot go on must not stop the others
            log.exception("self-healing could not move order %d on", order_id)
            _hold_failed(session, order_id, error, now=now)
    return moved


def _hold_failed(session: Session, order_id: int, error: Exception, *, now: datetime) -> None:
    """Hold the order that failed, in a savepoint of its own (the failed one is rolled
    back); if even that fails, it is logged and tried again on the next run."""
    try:
        with session.begin_nested():
            _hold(session, order_id, f"self-healing failed: {error!r}", now=now)
    except Exception:
        log.exception("self-healing could not hold order %d", order_id)


def _hold(session: Session, order_id: int, remark: str, *, now: datetime) -> None:
    """Fail the order's first step not done, with `remark`, and hold the order, for the
    dispatcher to retry the step or abort. An order no longer in progress is left as it
    is, and so is one with every step done (its completion failed: it sends nothing)."""
    order = lock(session, order_id)
    step = next((s for s in _steps(session, order_id) if s.state is not StepState.DONE), None)
    if order.state is not OrderState.IN_PROGRESS or step is None:
        return
    step.state, step.failed_at, step.remark = StepState.FAILED, now, remark
    order.state, order.updated_at = OrderState.HELD, now
    session.flush()


def _steps(session: Session, order_id: int) -> Sequence[SwitchingStep]:
    """The order's steps in order, as the database has them now."""
    return session.scalars(
        select(SwitchingStep)
        .where(SwitchingStep.order_id == order_id)
        .order_by(SwitchingStep.position)
        .execution_options(populate_existing=True)
    ).all()


def _pending(session: Session, order_id: int) -> list[int] | None:
    """The positions of the order's steps not done yet, as the database has them now; None
    while one waits (commanded to SCADA, or failed and left to the dispatcher)."""
    steps = _steps(session, order_id)
    if any(step.state in (StepState.COMMANDED, StepState.FAILED) for step in steps):
        return None
    return [step.position for step in steps if step.state is not StepState.DONE]


def _advance(
    session: Session,
    order_id: int,
    network: Views,
    scada: ScadaAdapter,
    *,
    now: datetime,
    late_within: timedelta,
) -> bool:
    """Send the order's next step, or complete it when every step is done; False when it
    waits (a step commanded or failed), is no longer in progress, or changed meanwhile.

    The next step's device is locked before the order, as a dispatcher's or SCADA's
    execution takes them, so the two never wait for each other crosswise; the order's
    state and steps are read again once both are held."""
    seen = _pending(session, order_id)
    if seen is None:
        return False
    if seen:
        lock_device_of(session, order_id, seen[0])
    order = lock(session, order_id)
    if order.state is not OrderState.IN_PROGRESS or _pending(session, order_id) != seen:
        return False  # looked at again on the next run
    if not seen:
        complete(session, order_id, actor=ACTOR, expected_version=None, now=now)
    else:
        _send(session, order_id, seen[0], network, scada, now=now, late_within=late_within)
    return True


def _refuse_hazard(
    session: Session,
    order_id: int,
    step: PlannedStep,
    network: Views,
    *,
    now: datetime,
    late_within: timedelta,
) -> None:
    """A closing that would give supply to where an active hazard is, on the network with
    the closings other orders sent to SCADA taken as done, is refused: a hazard's section
    stays dead whatever the plan said when it was read."""
    if step.action is not StepAction.CLOSE:
        return
    topology = as_commanded(
        session, network.energized, besides=order_id, now=now, late_within=late_within
    )
    (effect,) = simulate(topology, [step], allow_loops=True, hazards=hazard_sites(session)).steps
    if effect.hazards:
        named = ", ".join(str(i) for i in effect.hazards)
        raise HazardAhead(
            f"closing {step.asset_ref} would give supply to where hazard incident {named} is"
        )


def _send(
    session: Session,
    order_id: int,
    position: int,
    network: Views,
    scada: ScadaAdapter,
    *,
    now: datetime,
    late_within: timedelta,
) -> None:
    """Send the step to SCADA; a refusal holds the order with the reason, for the
    dispatcher to retry the step or abort."""
    step, ref = next((s, r) for s, r in steps_of(session, order_id) if s.position == position)
    try:
        with session.begin_nested():
            planned = PlannedStep(position, step.action, ref)
            _refuse_hazard(session, order_id, planned, network, now=now, late_within=late_within)
            execute_step(
                session,
                order_id,
                position,
                executor=Executor(ACTOR),
                expected_version=None,
                networks=Networks(network.operated, network.energized),
                now=now,
                late_within=late_within,
                scada=scada,
            )
    except (Conflict, Invalid) as refusal:
        _hold(session, order_id, f"self-healing stopped: {refusal}", now=now)
