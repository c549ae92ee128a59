"""The notifications' periodic jobs, for `outage.scheduler`."""

from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from outage.notifications import planned
from outage.scheduler import Job, every
from outage.settings import Settings

PLANNED_EVERY_S = 60.0
"""How often planned outages are checked for notices and reminders now due."""


def jobs(sessions: sessionmaker[Session], settings: Settings) -> Job:
    """Queue planned-outage notices and reminders as their time comes."""

    def queue_due(session: Session, now: datetime) -> int:
        return planned.queue_due(session, now, settings)

    def register(scheduler: BackgroundScheduler) -> None:
        every(scheduler, sessions, queue_due, seconds=PLANNED_EVERY_S, name="planned-notices")

    return register
