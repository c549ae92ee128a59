"""The sealer, for `outage.scheduler`: rows join their chains seconds after they are
written."""

from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from outage.ledger.sealing import Sealed, seal
from outage.scheduler import Job, every
from outage.settings import Settings

SEAL_EVERY_S = 10.0
"""How long a written row may wait before it is sealed (a batch per chain a run)."""


def jobs(sessions: sessionmaker[Session], settings: Settings) -> Job:
    del settings

    def run(session: Session, now: datetime) -> list[Sealed]:
        return seal(session, now)

    def register(scheduler: BackgroundScheduler) -> None:
        every(scheduler, sessions, run, seconds=SEAL_EVERY_S, name="seal-records")

    return register
