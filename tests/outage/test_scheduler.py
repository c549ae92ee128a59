"""The scheduler runs registered jobs in transactions of their own; a failure is not fatal."""

import threading
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import text
from sqlalchemy.orm import Session

from outage.db import session_factory
from outage.scheduler import build_scheduler, every
from outage.settings import Settings


def test_registered_jobs_run_and_a_failing_one_does_not_stop_the_others(database_url: str) -> None:
    sessions = session_factory(database_url)
    ran = threading.Event()
    failed = threading.Event()

    def works(session: Session, now: datetime) -> None:
        assert session.scalar(text("SELECT 1")) == 1 and now.tzinfo is not None
        ran.set()

    def fails(session: Session, now: datetime) -> None:
        failed.set()
        raise RuntimeError("this job always fails")

    def register(scheduler: BackgroundScheduler) -> None:
        every(scheduler, sessions, fails, seconds=3600, name="fails")
        every(scheduler, sessions, works, seconds=3600, name="works")

    scheduler = build_scheduler(sessions, Settings(), [register])
    assert {job.id for job in scheduler.get_jobs()} == {"fails", "works"}
    scheduler.start()
    try:
        assert failed.wait(10) and ran.wait(10)
        assert scheduler.running
    finally:
        scheduler.shutdown(wait=True)
