"""The engine's retention job, for `outage.scheduler`: erase what is past retention, and
forget the rate-limit counts past their windows."""

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from outage import clock
from outage.db import session_scope
from outage.privacy.retention import forget_counters, purge
from outage.scheduler import Job
from outage.settings import Settings

log = logging.getLogger(__name__)

JOB_ID = "privacy-purge"
ACTOR = "scheduler:privacy-purge"
"""Who the audit log names for the scheduled runs."""
EVERY = timedelta(hours=6)
FIRST_AFTER = timedelta(minutes=10)
"""The first run waits for the engine's start-up work (and a quick restart skips it)."""


def jobs(sessions: sessionmaker[Session], settings: Settings) -> Job:
    """The purge, in batches of its own transactions (not `every`'s one transaction)."""

    def run() -> None:
        try:
            counts = purge(
                sessions,
                now=clock.now(),
                retention=settings.retention_days,
                actor=ACTOR,
            )
        except Exception:
            log.exception("the retention purge failed; it runs again in %s", EVERY)
            return
        log.info("retention purge erased %s", counts)
        try:
            with session_scope(sessions) as session:
                forgotten = forget_counters(session, datetime.now(UTC), settings)
        except Exception:
            log.exception("forgetting old sign-in and ticket-guess counts failed")
            return
        log.info("forgot %s sign-in and ticket-guess counts past their windows", forgotten)

    def register(scheduler: BackgroundScheduler) -> None:
        scheduler.add_job(
            run,
            "interval",
            seconds=EVERY.total_seconds(),
            id=JOB_ID,
            name=JOB_ID,
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC) + FIRST_AFTER,
        )

    return register
