"""Intake's periodic jobs, for `outage.scheduler`: the meter pings' outbox and their wait."""

from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from outage.intake.headend import HeadEnd, configured_headend
from outage.intake.pings import PINGS_CHANNEL, expire_pings, send_pending
from outage.scheduler import Job, Work, every, on_notify
from outage.settings import Settings

SEND_EVERY_S = 5.0
"""How often pings waiting in the outbox are sent to the head-end, besides at once when
pings are recorded (`PINGS_CHANNEL`): the safety net for a notification missed."""
EXPIRE_EVERY_S = 60.0
"""How often pings unanswered too long are recorded as no answer."""


def jobs(sessions: sessionmaker[Session], settings: Settings) -> Job:
    """Send the pings' outbox to the head-end (as they are recorded, and every few seconds),
    and expire the pings it never answered."""
    headend = configured_headend(settings)

    def expire(session: Session, now: datetime) -> int:
        return expire_pings(session, now=now, wait=settings.ami_ping_wait_minutes)

    def register(scheduler: BackgroundScheduler) -> None:
        if headend is not None:
            send = _sender(headend)
            on_notify(scheduler, sessions, send, channel=PINGS_CHANNEL, name="meter-pings-wake")
            every(scheduler, sessions, send, seconds=SEND_EVERY_S, name="meter-pings-send")
        every(scheduler, sessions, expire, seconds=EXPIRE_EVERY_S, name="meter-pings-expire")

    return register


def _sender(headend: HeadEnd) -> Work:
    def send(session: Session, now: datetime) -> int:
        return send_pending(session, headend, now=now)

    return send
