"""The ledger's jobs, for `outage.scheduler`: rows join their chains seconds after they
are written, and each day gets its root soon after it ends."""

from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from outage.ledger.models import ChainRoot
from outage.ledger.roots import day_ended, make_root, signing_key
from outage.ledger.sealing import Sealed, seal
from outage.scheduler import Job, every
from outage.settings import Settings

SEAL_EVERY_S = 10.0
"""How long a written row may wait before it is sealed (a batch per chain a run)."""
ROOT_EVERY_S = 600.0
"""How soon after local midnight the day's root is made."""


def jobs(sessions: sessionmaker[Session], settings: Settings) -> Job:
    """The sealer, and the daily root (signed with the configured key, read at start: a
    key that cannot be read stops the engine with the reason)."""
    path = settings.audit_signing_key_file
    key = signing_key(path) if path is not None else None

    def run(session: Session, now: datetime) -> list[Sealed]:
        return seal(session, now)

    def root(session: Session, now: datetime) -> ChainRoot | None:
        return make_root(session, day_ended(now, settings.local_timezone), now, key)

    def register(scheduler: BackgroundScheduler) -> None:
        every(scheduler, sessions, run, seconds=SEAL_EVERY_S, name="seal-records")
        every(scheduler, sessions, root, seconds=ROOT_EVERY_S, name="daily-root")

    return register
