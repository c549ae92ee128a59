"""The interruption records' jobs: the spells job and the backfill are registered with the
engine role's scheduler and run in transactions of their own."""

import logging

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from outage.db import session_factory
from outage.incidents.jobs import jobs
from outage.settings import get_settings


def test_the_spells_job_and_the_backfill_run_on_the_scheduler(
    fresh_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = BackgroundScheduler()
    jobs(session_factory(fresh_database_url), get_settings())(scheduler)
    scheduled = scheduler.get_jobs()
    assert {job.id for job in scheduled} == {"interruption-spells", "interruption-backfill"}
    with caplog.at_level(logging.ERROR):
        for job in scheduled:
            job.func()
    assert not caplog.records
