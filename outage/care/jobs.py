"""The care centre's periodic jobs, for `outage.scheduler`."""

from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from outage.care.checks import open_connection_checks
from outage.care.supervision import escalate
from outage.scheduler import Job, every
from outage.settings import Settings

CHECKS_EVERY_S = 60.0
"""How often cancelled incidents are looked at for connection checks to open."""

ESCALATION_EVERY_S = 60.0
"""How often open requests are looked at for warnings and escalations."""


def jobs(sessions: sessionmaker[Session], settings: Settings) -> Job:
    """Open connection checks for the customers of cancelled incidents; warn of and
    escalate late requests."""

    def open_checks(session: Session, now: datetime) -> int:
        return open_connection_checks(session, settings, now)

    def supervise(session: Session, now: datetime) -> tuple[int, int]:
        return escalate(session, settings, now)

    def register(scheduler: BackgroundScheduler) -> None:
        every(scheduler, sessions, open_checks, seconds=CHECKS_EVERY_S, name="connection-checks")
        every(scheduler, sessions, supervise, seconds=ESCALATION_EVERY_S, name="care-escalation")

    return register
