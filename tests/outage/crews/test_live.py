"""Crew load on the real database: each crew on shift counts by what it is doing (other
suites' crews share the database, so the tests compare before and after)."""

from collections.abc import Iterator
from dataclasses import astuple
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from dispatch.model import CrewStatus
from outage.crews.live import crew_load
from outage.crews.models import Crew
from tests.conftest import make_crew, rolled_back


@pytest.fixture
def session(grid_database: str) -> Iterator[Session]:
    with rolled_back(grid_database) as db:
        yield db


def _change(session: Session, status: CrewStatus, *, on_shift: bool = True) -> tuple[int, ...]:
    before = astuple(crew_load(session, now=datetime.now(UTC)))
    crew = make_crew(session, shifts=None if on_shift else [])
    session.get_one(Crew, crew).status = status
    session.flush()
    after = astuple(crew_load(session, now=datetime.now(UTC)))
    return tuple(a - b for a, b in zip(after, before, strict=True))


def test_an_available_crew_on_shift_is_free(session: Session) -> None:
    assert _change(session, CrewStatus.AVAILABLE) == (1, 0, 0)


def test_a_crew_on_its_way_is_travelling(session: Session) -> None:
    assert _change(session, CrewStatus.EN_ROUTE) == (0, 1, 0)


def test_a_crew_at_work_is_on_site(session: Session) -> None:
    assert _change(session, CrewStatus.ON_SITE) == (0, 0, 1)


def test_a_crew_without_a_shift_now_is_not_counted(session: Session) -> None:
    assert _change(session, CrewStatus.AVAILABLE, on_shift=False) == (0, 0, 0)


def test_a_crew_marked_off_shift_is_not_counted(session: Session) -> None:
    assert _change(session, CrewStatus.OFF_SHIFT) == (0, 0, 0)


def test_a_crew_not_yet_arrived_is_not_counted(session: Session) -> None:
    before = astuple(crew_load(session, now=datetime.now(UTC)))
    crew = make_crew(session)
    session.get_one(Crew, crew).arrives_at = datetime.now(UTC) + timedelta(hours=1)
    session.flush()
    assert astuple(crew_load(session, now=datetime.now(UTC))) == before


def test_a_released_crew_is_not_counted(session: Session) -> None:
    before = astuple(crew_load(session, now=datetime.now(UTC)))
    crew = make_crew(session)
    session.get_one(Crew, crew).released_at = datetime.now(UTC) - timedelta(minutes=1)
    session.flush()
    assert astuple(crew_load(session, now=datetime.now(UTC))) == before
