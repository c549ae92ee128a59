"""Restoration's periodic jobs, for `outage.scheduler`: self-healing (when a setting
turns it on and SCADA takes commands) and the return to normal after a repair.

Self-healing is two jobs, each in a transaction of its own: new outages are looked at in
one, the automatic orders' steps sent in the other, so an incident that cannot be healed
never holds back the orders already under way."""

import logging
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from outage.grid.live import LiveTopology
from outage.orders.scada import adapter_for
from outage.restoration.after_repair import propose_return_to_normal
from outage.restoration.healing import advance, heal
from outage.scheduler import Job, every
from outage.settings import Settings

log = logging.getLogger(__name__)

HEAL_EVERY_S = 5.0
"""How often new outages and the automatic orders' steps are looked at."""
NORMAL_EVERY_S = 60.0
"""How often repaired incidents are looked at for their return to normal."""


def jobs(
    sessions: sessionmaker[Session], settings: Settings, live: LiveTopology | None = None
) -> Job:
    """Self-healing when on, and the return-to-normal drafts after repairs, on the network
    given (the process's), else on a copy of their own."""
    live = live or LiveTopology()
    scada = adapter_for(settings.scada_command_url)

    def self_heal(session: Session, now: datetime) -> int:
        started = heal(session, network=live.views(session), settings=settings, now=now)
        for order_id in started:
            log.info("self-healing started order %d", order_id)
        return len(started)

    def self_heal_steps(session: Session, now: datetime) -> int:
        assert scada is not None  # registered only with an adapter
        moved = advance(
            session,
            network=live.views(session),
            scada=scada,
            now=now,
            late_within=settings.scada_late_confirmation_minutes,
        )
        return len(moved)

    def after_repairs(session: Session, now: datetime) -> int:
        drafted = propose_return_to_normal(session, topology=live.energized(session), now=now)
        for order_id in drafted:
            log.info("return to normal drafted after a repair: order %d", order_id)
        return len(drafted)

    def register(scheduler: BackgroundScheduler) -> None:
        every(scheduler, sessions, after_repairs, seconds=NORMAL_EVERY_S, name="return-to-normal")
        if not settings.restoration_automatic:
            return
        if scada is None:
            log.warning("self-healing is on but no SCADA command URL is set: it stays off")
            return
        every(scheduler, sessions, self_heal, seconds=HEAL_EVERY_S, name="self-healing")
        every(scheduler, sessions, self_heal_steps, seconds=HEAL_EVERY_S, name="self-healing-steps")

    return register
