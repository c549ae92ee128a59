"""An outage found in a declared storm is told what the storm's phase allows."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from dispatch.etr import EtrSource
from outage.db import session_scope
from outage.i18n import Language
from outage.incidents.changes import set_etr, withdraw_etr
from outage.intake.channels.texts import sms_text
from outage.outbox.enums import EventKind
from outage.storms import service as storms
from outage.storms.enums import EtrScope, StormPhase
from outage.storms.schemas import StormIn

from .conftest import Drain, Grid, messages_of

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def declare(sessions: sessionmaker[Session]) -> Iterator[Callable[[StormPhase], int]]:
    def declare_(phase: StormPhase) -> int:
        with session_scope(sessions) as session:
            storm = StormIn(name="Yagi", level=2, phase=phase)
            return storms.declare(session, storm, actor="supervisor", now=datetime.now(UTC))

    yield declare_
    with session_scope(sessions) as session:
        session.execute(text("UPDATE storms SET ended_at = declared_at WHERE ended_at IS NULL"))


ASSESSING = {Language.EN: "storm damage being assessed", Language.VI: "đánh giá thiệt hại do bão"}
STORM_DAMAGE = {
    Language.EN: "repair all the storm's damage by",
    Language.VI: "khắc phục xong thiệt hại do bão trước",
}
STORM_TIME = {Language.EN: "storm repairs done by", Language.VI: "khắc phục xong bão trước"}


def _bodies(
    sessions: sessionmaker[Session], incident: int, *kinds: EventKind
) -> list[tuple[Language, str]]:
    """(language, body) of the incident's messages of these kinds."""
    with sessions() as session:
        return [(m.language, m.body) for m in messages_of(session, incident) if m.kind in kinds]


def test_while_damage_is_assessed_the_notice_says_so(
    sessions: sessionmaker[Session],
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
    declare: Callable[[StormPhase], int],
) -> None:
    declare(StormPhase.ASSESSING)
    incident = open_outage(grid.fuse)
    drain()
    bodies = _bodies(sessions, incident, EventKind.OUTAGE_DETECTED)
    assert bodies
    assert all(sms_text(ASSESSING[language]) in sms_text(body) for language, body in bodies)


def test_in_the_global_phase_the_notice_gives_the_storms_time(
    sessions: sessionmaker[Session],
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
    declare: Callable[[StormPhase], int],
) -> None:
    storm = declare(StormPhase.GLOBAL)
    now = datetime.now(UTC)
    with session_scope(sessions) as session:
        storms.set_times(
            session,
            storm,
            etr=(now + timedelta(hours=20), now + timedelta(hours=26)),
            regions={},
            actor="planner",
            now=now,
        )
    incident = open_outage(grid.fuse)
    drain()
    bodies = _bodies(sessions, incident, EventKind.OUTAGE_DETECTED)
    assert bodies
    assert all(sms_text(STORM_TIME[language]) in sms_text(body) for language, body in bodies)


def test_the_storms_time_written_to_an_outage_is_told_as_the_storms(
    sessions: sessionmaker[Session],
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
) -> None:
    incident = open_outage(grid.fuse)
    drain()
    with session_scope(sessions) as session:
        etr = datetime.now(UTC) + timedelta(hours=30)
        set_etr(session, incident, etr=etr, scope=EtrScope.STORM, actor="dispatch-planner")
    drain()
    bodies = _bodies(sessions, incident, EventKind.ETR_SET, EventKind.ETR_CHANGED)
    assert bodies
    assert all(sms_text(STORM_DAMAGE[language]) in sms_text(body) for language, body in bodies)


def test_no_time_set_while_damage_is_assessed_reaches_anyone(
    sessions: sessionmaker[Session],
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
    declare: Callable[[StormPhase], int],
) -> None:
    incident = open_outage(grid.fuse)
    drain()
    declare(StormPhase.ASSESSING)
    with session_scope(sessions) as session:
        etr = datetime.now(UTC) + timedelta(hours=3)
        set_etr(session, incident, etr=etr, source=EtrSource.DISPATCHER)
    drain()
    with sessions() as session:
        kinds = {m.kind for m in messages_of(session, incident)}
    assert not kinds & {EventKind.ETR_SET, EventKind.ETR_CHANGED}


WITHDRAWN = {Language.EN: "no longer holds", Language.VI: "không còn đúng"}


def test_a_time_told_then_withdrawn_for_assessment_is_taken_back(
    sessions: sessionmaker[Session],
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
    declare: Callable[[StormPhase], int],
) -> None:
    incident = open_outage(grid.fuse)
    with session_scope(sessions) as session:
        set_etr(session, incident, etr=datetime.now(UTC) + timedelta(hours=3))
    drain()
    declare(StormPhase.ASSESSING)
    with session_scope(sessions) as session:
        assert withdraw_etr(session, incident, actor="dispatch-planner", reason="assessing")
    drain()
    bodies = _bodies(sessions, incident, EventKind.ETR_CHANGED)
    assert bodies
    assert all(sms_text(WITHDRAWN[language]) in sms_text(body) for language, body in bodies)


def test_a_withdrawn_time_nobody_was_told_is_not_sent(
    sessions: sessionmaker[Session],
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
    declare: Callable[[StormPhase], int],
) -> None:
    declare(StormPhase.ASSESSING)
    incident = open_outage(grid.fuse)
    with session_scope(sessions) as session:
        set_etr(session, incident, etr=datetime.now(UTC) + timedelta(hours=3))
    drain()
    with session_scope(sessions) as session:
        assert withdraw_etr(session, incident, actor="dispatch-planner", reason="assessing")
    drain()
    assert _bodies(sessions, incident, EventKind.ETR_CHANGED) == []
