"""An outage found in a declared storm is told what the storm's phase allows."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text, update
from sqlalchemy.orm import Session, sessionmaker

from dispatch.etr import EtrSource
from outage.db import session_scope
from outage.i18n import Language, dates
from outage.incidents.changes import set_etr, withdraw_etr
from outage.intake.channels.texts import sms_text
from outage.notifications.delivery import Worker
from outage.notifications.enums import DeliveryStatus
from outage.notifications.models import Notification
from outage.outbox.enums import EventKind
from outage.settings import Settings
from outage.storms import service as storms
from outage.storms.enums import EtrScope, StormPhase
from outage.storms.schemas import StormIn

from .conftest import Drain, Grid, messages_of
from .test_fanout_followers import DAUGHTER, _by_account, _follow

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


@pytest.fixture
def quiet(sessions: sessionmaker[Session], settings: Settings) -> Worker:
    """A worker in its quiet hours: what it writes waits for them to end."""
    local = datetime.now(settings.local_timezone)
    hours = f"{local - timedelta(hours=1):%H:%M}-{local + timedelta(hours=2):%H:%M}"
    return Worker(sessions, settings.model_copy(update={"notify_quiet_hours": hours}))


def _set(sessions: sessionmaker[Session], incident: int, hours: float) -> datetime:
    etr = (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)
    with session_scope(sessions) as session:
        assert set_etr(session, incident, etr=etr)
    return etr


def _withdraw(sessions: sessionmaker[Session], incident: int) -> None:
    with session_scope(sessions) as session:
        assert withdraw_etr(session, incident, actor="dispatch-planner", reason="assessing")


def _end_the_waits(sessions: sessionmaker[Session], incident: int) -> None:
    """Every message of the incident waiting is due now, as if quiet hours were over."""
    with session_scope(sessions) as session:
        session.execute(
            update(Notification)
            .where(Notification.incident_id == incident)
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def _shown(moment: datetime, language: Language) -> str:
    """A time as an SMS writes it."""
    return sms_text(dates.write(moment.astimezone(ZONE), dates.Form.DAY_TIME, language))


def test_a_time_waiting_when_it_is_withdrawn_is_never_sent(
    sessions: sessionmaker[Session],
    drain: Drain,
    quiet: Worker,
    grid: Grid,
    open_outage: Callable[..., int],
    declare: Callable[[StormPhase], int],
) -> None:
    incident = open_outage(grid.fuse)
    drain()
    etr = _set(sessions, incident, 3)
    drain(using=quiet)
    with sessions() as session:
        waiting = [m for m in messages_of(session, incident) if m.kind is EventKind.ETR_SET]
    assert waiting and all(m.status is DeliveryStatus.PENDING for m in waiting)
    declare(StormPhase.ASSESSING)
    _withdraw(sessions, incident)
    drain(using=quiet)
    _end_the_waits(sessions, incident)
    drain()
    with sessions() as session:
        messages = messages_of(session, incident)
    assert {m.status for m in messages if m.kind is EventKind.ETR_SET} == {DeliveryStatus.SKIPPED}
    assert not [m for m in messages if m.kind is EventKind.ETR_CHANGED], "no time was sent"
    sent = [m for m in messages if m.status is DeliveryStatus.SENT]
    assert sent
    assert not [m for m in sent if "None" in m.body or _shown(etr, m.language) in m.body]


def test_a_withdrawal_names_the_time_sent_not_a_change_still_waiting(
    sessions: sessionmaker[Session],
    drain: Drain,
    quiet: Worker,
    grid: Grid,
    open_outage: Callable[..., int],
    declare: Callable[[StormPhase], int],
) -> None:
    incident = open_outage(grid.fuse)
    told = _set(sessions, incident, 3)
    drain()
    waiting = _set(sessions, incident, 6)
    drain(using=quiet)
    declare(StormPhase.ASSESSING)
    _withdraw(sessions, incident)
    drain(using=quiet)
    _end_the_waits(sessions, incident)
    drain()
    with sessions() as session:
        changes = [m for m in messages_of(session, incident) if m.kind is EventKind.ETR_CHANGED]
    skipped = [m for m in changes if m.status is DeliveryStatus.SKIPPED]
    withdrawals = [m for m in changes if m.status is DeliveryStatus.SENT]
    assert skipped and withdrawals
    assert all(_shown(waiting, m.language) in m.body for m in skipped)
    for m in withdrawals:
        assert sms_text(WITHDRAWN[m.language]) in m.body
        assert _shown(told, m.language) in m.body and _shown(waiting, m.language) not in m.body


def test_a_follower_never_sent_a_time_hears_of_no_withdrawal(
    sessions: sessionmaker[Session],
    drain: Drain,
    grid: Grid,
    open_outage: Callable[..., int],
    declare: Callable[[StormPhase], int],
) -> None:
    incident = open_outage(grid.fuse)
    _set(sessions, incident, 3)
    drain()
    _follow(sessions, _by_account, sorted(grid.accounts[grid.fuse])[0])
    declare(StormPhase.ASSESSING)
    _withdraw(sessions, incident)
    drain()
    with sessions() as session:
        withdrawals = [m for m in messages_of(session, incident) if m.kind is EventKind.ETR_CHANGED]
    assert len(withdrawals) == len(grid.accounts[grid.fuse])
    assert all(m.address != DAUGHTER and m.subscription_id is None for m in withdrawals)
