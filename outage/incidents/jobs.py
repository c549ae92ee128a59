"""The interruption records' periodic jobs, for `outage.scheduler`: the customers' spells
written after their records changed, and the records of incidents restored before the
upgrade stored a few at a time (`outage.incidents.recorded`)."""

from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from outage.grid.live import LiveTopology
from outage.incidents.recorded import backfill, fold
from outage.scheduler import Job, every
from outage.settings import Settings

SPELLS_EVERY_S = 10.0
"""How often the customers due get their spells written: until then a report counts them
from their records, which costs it time, not accuracy."""
BACKFILL_EVERY_S = 10.0
"""How often a batch of incidents restored before the upgrade is stored."""


def jobs(
    sessions: sessionmaker[Session], settings: Settings, live: LiveTopology | None = None
) -> Job:
    """The spells job and the backfill, on the network given (the process's), else on a
    copy of their own."""
    live = live or LiveTopology()
    backfilled = False

    def spells(session: Session, now: datetime) -> int:
        return fold(session)

    def stored_before(session: Session, now: datetime) -> int:
        """Once a run finds nothing, nothing comes again (every restoration stores its
        own records), so the job stops looking, until the process starts again: each
        look reads every restored incident."""
        nonlocal backfilled
        if backfilled:
            return 0
        stored = backfill(session, live.get(session))
        backfilled = stored == 0
        return stored

    def register(scheduler: BackgroundScheduler) -> None:
        every(scheduler, sessions, spells, seconds=SPELLS_EVERY_S, name="interruption-spells")
        every(
            scheduler,
            sessions,
            stored_before,
            seconds=BACKFILL_EVERY_S,
            name="interruption-backfill",
        )

    return register
