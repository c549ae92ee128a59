"""Intake's jobs: the pings' outbox is sent only where a head-end is configured."""

from apscheduler.schedulers.background import BackgroundScheduler

from outage.db import session_factory
from outage.intake.jobs import jobs
from outage.settings import get_settings


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
