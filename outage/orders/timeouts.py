"""Steps SCADA never confirmed: each fails when its time runs out, and holds its order.

A command sent to SCADA is done only when a SCADA event shows the device in the
commanded state. When none comes within `scada_command_timeout_seconds` of the command,
the step fails with the reason, at the moment its time ran out (the command's time plus
the timeout, not when this job noticed), and the order is held: not completed, nothing
sent again. The dispatcher retries the step (`execute` again) or aborts the order. The
engine runs `fail_unconfirmed` as a periodic job (`outage.orders.jobs`).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.orders.enums import OrderState, StepState
from outage.orders.models import SwitchingOrder, SwitchingStep
from outage.orders.service import lock


@dataclass(frozen=True)
class FailedStep:
    order_id: int
    position: int
    failed_at: datetime


def spoken(duration: timedelta) -> str:
    """A duration as a person says it: "2 minutes", "90 seconds", "1 hour"."""
    seconds = round(duration.total_seconds())
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def fail_unconfirmed(session: Session, now: datetime, *, timeout: timedelta) -> list[FailedStep]:
    """Fail every step commanded longer than `timeout` ago and still unconfirmed, and
    hold its order. A confirmation that wins the race for the order's lock stands."""
    due = session.execute(
        select(SwitchingStep.order_id, SwitchingStep.position)
        .join(SwitchingOrder, SwitchingOrder.id == SwitchingStep.order_id)
        .where(
            SwitchingStep.state == StepState.COMMANDED,
            SwitchingStep.commanded_at <= now - timeout,
            SwitchingOrder.state == OrderState.IN_PROGRESS,
        )
        .order_by(SwitchingStep.order_id, SwitchingStep.position)
    ).all()
    failed = []
    for order_id, position in due:
        order = lock(session, order_id)
        step = session.scalars(
            select(SwitchingStep)
            .where(SwitchingStep.order_id == order_id, SwitchingStep.position == position)
            .execution_options(populate_existing=True)
        ).one()
        if step.state is not StepState.COMMANDED or order.state is not OrderState.IN_PROGRESS:
            continue
        assert step.commanded_at is not None  # a commanded step has its command's time
        step.state = StepState.FAILED
        step.failed_at = step.commanded_at + timeout
        step.remark = f"no confirmation from SCADA within {spoken(timeout)}"
        order.state = OrderState.HELD
        order.updated_at = now
        failed.append(FailedStep(order_id, position, step.failed_at))
    session.flush()
    return failed
