"""Declaring a storm, its phases by region, its times, and the level proposed."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.db import session_factory, session_scope
from outage.grid.models import Substation
from outage.moments import CLOCK_SKEW
from outage.storms import service
from outage.storms.enums import StormAction, StormPhase
from outage.storms.errors import InvalidStorm, StormConflict
from outage.storms.models import StormEvent
from outage.storms.schemas import StormIn, StormPatch

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def session(storms_database: str) -> Session:
    with session_scope(session_factory(storms_database)) as session:
        yield session


@pytest.fixture
def region(session: Session) -> tuple[int, str]:
    row = session.execute(select(Substation.id, Substation.name).limit(1)).one()
    return row.id, row.name


def declared(session: Session, **values: object) -> int:
    storm = StormIn.model_validate({"name": "Typhoon Yagi", "level": 2, **values})
    return service.declare(session, storm, actor="supervisor", now=NOW)


def test_a_declared_storm_is_on_and_assessing_everywhere(session: Session) -> None:
    storm_id = declared(session)
    state = service.current(session)
    assert state is not None and state.id == storm_id
    assert (state.level, state.phase) == (2, StormPhase.ASSESSING)
    assert state.phase_of(None) is StormPhase.ASSESSING
    assert state.etr_of(None) is None


def test_only_one_storm_is_on_at_a_time(session: Session) -> None:
    declared(session)
    with pytest.raises(StormConflict, match="on already"):
        declared(session, name="Another")


def test_a_storm_declared_in_the_future_is_refused(session: Session) -> None:
    with pytest.raises(InvalidStorm, match="future"):
        declared(session, declared_at=(NOW + 2 * CLOCK_SKEW).isoformat())


def test_a_region_moves_to_its_own_phase(session: Session, region: tuple[int, str]) -> None:
    storm_id = declared(session)
    patch = StormPatch(expected_version=1, phase=StormPhase.REGIONAL, regions=[region[1]])
    service.change(session, storm_id, patch, actor="supervisor", now=NOW)
    state = service.current(session)
    assert state is not None
    assert state.phase_of(region[0]) is StormPhase.REGIONAL
    assert state.phase_of(None) is StormPhase.ASSESSING


def test_a_phase_for_all_regions_replaces_their_own(
    session: Session, region: tuple[int, str]
) -> None:
    storm_id = declared(session)
    own = StormPatch(expected_version=1, phase=StormPhase.REGIONAL, regions=[region[1]])
    service.change(session, storm_id, own, actor="supervisor", now=NOW)
    everywhere = StormPatch(expected_version=2, phase=StormPhase.JOB)
    service.change(session, storm_id, everywhere, actor="supervisor", now=NOW)
    state = service.current(session)
    assert state is not None and state.phase_of(region[0]) is StormPhase.JOB


def test_an_unknown_region_is_refused(session: Session) -> None:
    storm_id = declared(session)
    patch = StormPatch(expected_version=1, phase=StormPhase.REGIONAL, regions=["Atlantis"])
    with pytest.raises(InvalidStorm, match="Atlantis"):
        service.change(session, storm_id, patch, actor="supervisor", now=NOW)


def test_a_change_on_a_stale_version_is_refused(session: Session) -> None:
    storm_id = declared(session)
    service.change(session, storm_id, StormPatch(expected_version=1, level=3), actor="a", now=NOW)
    with pytest.raises(StormConflict, match="meanwhile"):
        service.change(
            session, storm_id, StormPatch(expected_version=1, level=1), actor="b", now=NOW
        )


def test_an_ended_storm_is_off_and_takes_no_more_changes(session: Session) -> None:
    storm_id = declared(session, declared_at=(NOW - timedelta(hours=5)).isoformat())
    service.change(
        session, storm_id, StormPatch(expected_version=1, ended_at=NOW), actor="a", now=NOW
    )
    assert service.current(session) is None
    with pytest.raises(StormConflict, match="ended"):
        service.change(
            session, storm_id, StormPatch(expected_version=2, level=1), actor="a", now=NOW
        )


def test_the_global_time_is_told_in_the_global_phase_only(
    session: Session, region: tuple[int, str]
) -> None:
    storm_id = declared(session, phase="global")
    times = (NOW + timedelta(hours=20), NOW + timedelta(hours=30))
    regional = (NOW + timedelta(hours=8), NOW + timedelta(hours=10))
    service.set_times(
        session, storm_id, etr=times, regions={region[0]: regional}, actor="planner", now=NOW
    )
    state = service.current(session)
    assert state is not None
    assert state.etr_of(region[0]) == times
    patch = StormPatch(expected_version=1, phase=StormPhase.REGIONAL, regions=[region[1]])
    service.change(session, storm_id, patch, actor="supervisor", now=NOW)
    state = service.current(session)
    assert state is not None and state.etr_of(region[0]) == regional


def test_every_change_is_audited(session: Session) -> None:
    storm_id = declared(session)
    service.change(
        session,
        storm_id,
        StormPatch(expected_version=1, level=3, phase=StormPhase.GLOBAL),
        actor="supervisor",
        now=NOW,
    )
    actions = session.scalars(
        select(StormEvent.action).where(StormEvent.storm_id == storm_id).order_by(StormEvent.id)
    ).all()
    assert actions == [StormAction.DECLARED, StormAction.LEVEL_SET, StormAction.PHASE_SET]


def test_a_change_of_nothing_is_refused(session: Session) -> None:
    storm_id = declared(session)
    with pytest.raises(InvalidStorm, match="nothing to change"):
        service.change(session, storm_id, StormPatch(expected_version=1), actor="a", now=NOW)


def test_a_region_holding_only_its_time_follows_the_storms_phase(
    session: Session, region: tuple[int, str]
) -> None:
    storm_id = declared(session, phase="global")
    times = (NOW + timedelta(hours=8), NOW + timedelta(hours=10))
    service.set_times(
        session, storm_id, etr=None, regions={region[0]: times}, actor="planner", now=NOW
    )
    everywhere = StormPatch(expected_version=1, phase=StormPhase.REGIONAL)
    service.change(session, storm_id, everywhere, actor="supervisor", now=NOW)
    state = service.current(session)
    assert state is not None
    assert state.phase_of(region[0]) is StormPhase.REGIONAL
    assert state.etr_of(region[0]) == times
