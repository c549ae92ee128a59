"""Intake's jobs: the pings' outbox is sent only where a head-end is configured, and at
once when pings are recorded."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from outage.db import session_factory, session_scope
from outage.intake.enums import PingReason
from outage.intake.headend import HeadEndLimits
from outage.intake.jobs import SEND_EVERY_S, jobs
from outage.intake.pings import request_pings
from outage.settings import get_settings
from outage.simulation.headend import SimulatedHeadEnd


def _scheduled(database_url: str, headend_url: str | None) -> set[str]:
    settings = get_settings().model_copy(update={"ami_headend_url": headend_url})
    scheduler = BackgroundScheduler()
    jobs(session_factory(database_url), settings)(scheduler)
    return {job.id for job in scheduler.get_jobs()}


def test_without_a_headend_only_the_pings_wait_is_kept(database_url: str) -> None:
    assert _scheduled(database_url, None) == {"meter-pings-expire"}


def test_with_a_headend_its_outbox_is_sent_too(database_url: str) -> None:
    assert _scheduled(database_url, "http://127.0.0.1:9") == {
        "meter-pings-send",
        "meter-pings-expire",
    }


def test_pings_reach_the_headend_at_their_commit_not_on_the_jobs_next_run(
    ami_database: str, meters: Iterator[str]
) -> None:
    """The send job runs at the start and then every 5 s: pings recorded in between get
    there at once, their commit waking the sender."""
    with SimulatedHeadEnd(lambda answers: None, loss=1.0) as headend:
        settings = get_settings().model_copy(update={"ami_headend_url": headend.url})
        sessions = session_factory(ami_database)
        scheduler = BackgroundScheduler()
        jobs(sessions, settings)(scheduler)
        scheduler.start()
        try:
            time.sleep(1.0)  # the send job's first run is over
            with session_scope(sessions) as session:
                limits = HeadEndLimits(settings.ami_headend_max_batch, 1000)
                request_pings(
                    session, limits, [next(meters)], PingReason.MANUAL, now=datetime.now(UTC)
                )
            committed = time.monotonic()
            while not headend.requests and time.monotonic() - committed < SEND_EVERY_S:
                time.sleep(0.01)
            took_s = time.monotonic() - committed
        finally:
            scheduler.shutdown(wait=False)
    assert headend.requests
    assert took_s < 1.0
