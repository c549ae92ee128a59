"""Intake's periodic jobs, for `outage.scheduler`: the meter pings' outbox and their wait."""

from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from outage.intake.headend import configured_headend
from outage.intake.pings import expire_pings, send_pending
from outage.scheduler import Job, every
from outage.settings import Settings

SEND_EVERY_S = 5.0
"""How often pings waiting in the outbox are sent to the head-end."""
EXPIRE_EVERY_S = 60.0
"""How often pings unanswered too long are recorded as no answer."""


def jobs(sessions: sessionmaker[Session], settings: Settings) -> Job:
    """Send the pings' outbox to the head-end, and expire the pings it never answered."""
    headend = configured_headend(settings)

    def expire(session: Session, now: datetime) -> int:
        return expire_pings(session, now=now, wait=settings.ami_ping_wait_minutes)

    def register(scheduler: BackgroundScheduler) -> None:
        if headend is not None:
            every(
                scheduler,
                sessions,
                lambda session, now: send_pending(session, headend, now=now),
                seconds=SEND_EVERY_S,
                name="meter-pings-send",
            )
        every(scheduler, sessions, expire, seconds=EXPIRE_EVERY_S, name="meter-pings-expire")

    return register
