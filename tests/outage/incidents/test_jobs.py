"""The interruption records' jobs: the spells job and the backfill are registered with the
engine role's scheduler and run in transactions of their own."""

import logging
from collections.abc import Callable, Iterator

import pytest
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from grid_topology.model import GridModel
from outage.db import session_factory, session_scope
from outage.incidents.jobs import jobs
from outage.incidents.models import (
    Interruption,
    InterruptionSpell,
    RecordedIncident,
    SpellsDue,
)
from outage.settings import get_settings
from tests.conftest import own_database

from .conftest import Places, act


@pytest.fixture
def sessions(database_url: str, sample_grid: GridModel) -> Iterator[sessionmaker[Session]]:
    with own_database(database_url, "jobs", sample_grid) as url:
        yield session_factory(url)


def scheduled(sessions: sessionmaker[Session]) -> dict[str, Job]:
    scheduler = BackgroundScheduler()
    jobs(sessions, get_settings())(scheduler)
    return {job.id: job for job in scheduler.get_jobs()}


def restored_before_the_upgrade(
    sessions: sessionmaker[Session], open_on: Callable[..., int], fuse: str
) -> int:
    """A restored incident whose records are not stored, as one restored before them."""
    with session_scope(sessions) as session:
        incident = open_on(session, fuse)
        act(session, incident, "restored")
        session.execute(delete(Interruption).where(Interruption.incident_id == incident))
        session.execute(delete(RecordedIncident).where(RecordedIncident.incident_id == incident))
        session.execute(delete(SpellsDue))
    return incident


def test_the_spells_job_and_the_backfill_run_on_the_scheduler(
    sessions: sessionmaker[Session],
) -> None:
    assert set(scheduled(sessions)) == {"interruption-spells", "interruption-backfill"}


def test_the_jobs_write_the_spells_due_and_store_the_incidents_restored_before(
    sessions: sessionmaker[Session],
    open_on: Callable[..., int],
    places: Places,
    caplog: pytest.LogCaptureFixture,
) -> None:
    old = restored_before_the_upgrade(sessions, open_on, places.fuses[0])
    with session_scope(sessions) as session:
        act(session, open_on(session, places.fuses[1]), "restored")  # its customers due
    found = scheduled(sessions)
    with caplog.at_level(logging.ERROR):
        found["interruption-backfill"].func()
        found["interruption-spells"].func()
    assert not caplog.records
    with session_scope(sessions) as session:
        assert old in set(session.scalars(select(RecordedIncident.incident_id)))
        assert not session.scalars(select(SpellsDue.id)).all()
        spelled = set(session.scalars(select(InterruptionSpell.incident_id)))
        assert old in spelled
        assert len(spelled) == 2


def test_the_backfill_stops_looking_once_it_found_nothing(
    sessions: sessionmaker[Session], open_on: Callable[..., int], places: Places
) -> None:
    backfill = scheduled(sessions)["interruption-backfill"]
    backfill.func()
    old = restored_before_the_upgrade(sessions, open_on, places.fuses[0])
    backfill.func()
    with session_scope(sessions) as session:
        assert old not in set(session.scalars(select(RecordedIncident.incident_id)))
