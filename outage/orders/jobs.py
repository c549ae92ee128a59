"""The switching orders' periodic job, for `outage.scheduler`: fail the steps SCADA did
not confirm in time (`outage.orders.timeouts`)."""

import logging
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from outage.orders.timeouts import fail_unconfirmed
from outage.scheduler import Job, every
from outage.settings import Settings

log = logging.getLogger(__name__)

CHECK_EVERY_S = 10.0
"""How often commanded steps are looked at; a short timeout is looked at more often, so a
step fails at most a quarter of its timeout late (the failure's time is exact anyway)."""


def jobs(sessions: sessionmaker[Session], settings: Settings) -> Job:
    """Fail the commanded steps whose time ran out, and hold their orders."""
    timeout = settings.scada_command_timeout_seconds

    def fail_due(session: Session, now: datetime) -> int:
        failed = fail_unconfirmed(session, now, timeout=timeout)
        for step in failed:
            log.warning(
                "order %d step %d: no confirmation from SCADA; the order is held",
                step.order_id,
                step.position,
            )
        return len(failed)

    def register(scheduler: BackgroundScheduler) -> None:
        seconds = min(CHECK_EVERY_S, timeout.total_seconds() / 4)
        every(scheduler, sessions, fail_due, seconds=seconds, name="order-step-timeouts")

    return register
