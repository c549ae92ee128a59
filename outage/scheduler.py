"""The periodic jobs of the engine role, on one APScheduler BackgroundScheduler.

A package registers its jobs with a function that takes the scheduler and adds them
(`scheduler.add_job(...)`); `every` wraps a unit of work in a transaction of its own so
a failing run is logged and the next one tries again. Jobs coalesce and never overlap
themselves, so a slow run is not stacked up behind.
"""

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from outage import clock
from outage.db import session_scope
from outage.settings import Settings

log = logging.getLogger(__name__)

Job = Callable[[BackgroundScheduler], None]
"""Adds a package's jobs to the scheduler."""

Work = Callable[[Session, datetime], object]
"""One run of a job: the session (committed afterwards) and the time now (`outage.clock`)."""


def every(
    scheduler: BackgroundScheduler,
    sessions: sessionmaker[Session],
    work: Work,
    *,
    seconds: float,
    name: str,
) -> None:
    """Run `work` in a transaction of its own every `seconds`."""

    def run() -> None:
        try:
            with session_scope(sessions) as session:
                work(session, clock.now())
        except Exception:
            log.exception("scheduled job %s failed; it runs again in %s s", name, seconds)

    scheduler.add_job(
        run,
        "interval",
        seconds=seconds,
        id=name,
        name=name,
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now(UTC),  # the scheduler's own time is the wall clock's
    )


def build_scheduler(
    sessions: sessionmaker[Session], settings: Settings, jobs: Sequence[Job]
) -> BackgroundScheduler:
    """A scheduler (not started) holding every registered job; times in UTC."""
    scheduler = BackgroundScheduler(timezone=UTC, job_defaults={"misfire_grace_time": 60})
    for register in jobs:
        register(scheduler)
    log.info("scheduler holds %d jobs (%s)", len(scheduler.get_jobs()), settings.local_timezone.key)
    return scheduler
