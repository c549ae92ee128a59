"""ETR messages coalesce in a storm; restoration brings the "still out?" follow-up, whose
answer files a report the engine will see."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.etr import EtrSource
from outage.app import create_app
from outage.auth.enums import Scope
from outage.db import session_scope
from outage.i18n import dates
from outage.incidents.changes import open_nested, restore, set_etr
from outage.incidents.models import Incident
from outage.incidents.outbox import incident_event
from outage.intake.channels.schemas import SmsIn
from outage.intake.channels.texts import sms_text
from outage.intake.models import Report
from outage.notifications import followup
from outage.notifications.enums import DeliveryChannel, DeliveryStatus, Reply
from outage.notifications.models import Notification
from outage.notifications.sink import HttpSink
from outage.outbox.enums import EventKind
from outage.settings import Settings
from tests.conftest import Credentials

from .conftest import Drain, Grid, customer_ids, messages_of


def _set_etr(sessions: sessionmaker[Session], incident: int, hours: float) -> datetime:
    etr = (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)
    with session_scope(sessions) as session:
        set_etr(session, incident, etr=etr, source=EtrSource.DISPATCHER)
    return etr


def test_etr_changes_in_a_storm_coalesce_into_one_waiting_message(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    drain()
    _set_etr(sessions, incident, 2)
    drain()
    _set_etr(sessions, incident, 3)  # within the interval after the ETR: waits
    drain()
    _set_etr(sessions, incident, 4)  # folds into the waiting one
    drain()
    latest = _set_etr(sessions, incident, 5)  # and so does this one
    drain()
    with sessions() as session:
        messages = messages_of(session, incident)
    customers = len(grid.accounts[grid.fuse])
    kinds = Counter((m.kind, m.status) for m in messages)
    assert kinds[(EventKind.ETR_SET, DeliveryStatus.SENT)] == customers
    waiting = [m for m in messages if m.status is DeliveryStatus.PENDING]
    assert len(waiting) == customers
    assert all(m.kind is EventKind.ETR_CHANGED for m in waiting)
    assert all(m.due_at > datetime.now(UTC) + timedelta(minutes=25) for m in waiting)
    local = latest.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    shown = [dates.write(local, dates.Form.DAY_TIME, m.language) for m in waiting]
    assert all(sms_text(when) in m.body for when, m in zip(shown, waiting, strict=True))


def _restore(sessions: sessionmaker[Session], incident: int) -> None:
    with session_scope(sessions) as session:
        restore(session, incident, at=datetime.now(UTC), reason="SCADA: closed")


def _follow_ups(session: Session, incident: int) -> list[Notification]:
    """The "power is back" messages, which ask whether it is."""
    return [m for m in messages_of(session, incident) if m.kind is EventKind.RESTORED]


def test_power_back_asks_if_they_are_still_out_in_the_same_message(
    sessions: sessionmaker[Session], sink: HttpSink, drain: Drain, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    _restore(sessions, incident)
    drain()
    with sessions() as session:
        sent = messages_of(session, incident)
        asked = _follow_ups(session, incident)
    assert not [m for m in sent if m.kind is EventKind.FOLLOW_UP]
    assert len(asked) == len(grid.accounts[grid.fuse])
    assert all(m.status is DeliveryStatus.SENT for m in asked)
    assert len({m.reply_token for m in asked}) == len(asked) and None not in {
        m.reply_token for m in asked
    }
    for m in asked:
        if m.channel is DeliveryChannel.SMS:
            assert "Reply 1" in m.body or "Tra loi 1" in m.body
        else:
            assert f"https://outage.example.com/n/{m.reply_token}" in m.body


def test_still_out_through_the_link_files_a_report_once(
    sessions: sessionmaker[Session],
    settings: Settings,
    drain: Drain,
    grid: Grid,
    open_outage,
) -> None:
    incident = open_outage(grid.fuse)
    _restore(sessions, incident)
    drain()
    with sessions() as session:
        token = _follow_ups(session, incident)[0].reply_token
    with TestClient(create_app(str(settings.database_url), settings)) as client:
        page = client.get(f"/n/{token}?lang=en")
        first = client.post(f"/n/{token}?lang=en", data={"answer": "still_out"})
        again = client.post(f"/n/{token}?lang=en", data={"answer": "still_out"})
        unknown = client.get("/n/not-a-token")
    assert page.status_code == 200 and "Still without power" in page.text
    assert first.status_code == 200 and "still without power" in first.text
    assert unknown.status_code == 404
    with sessions() as session:
        reports = session.scalars(select(Report).where(Report.channel == "web")).all()
    assert len(reports) == 1 and reports[0].customer_id is not None
    assert reports[0].ticket in first.text and reports[0].ticket in again.text


def test_an_sms_1_answers_the_latest_follow_up(
    sessions: sessionmaker[Session], settings: Settings, drain: Drain, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    _restore(sessions, incident)
    drain()
    with sessions() as session:
        asked = _follow_ups(session, incident)[0]
    with session_scope(sessions) as session:
        reply = followup.answer_sms(session, SmsIn(sender=asked.address, text=" 1 "), settings)
        stranger = SmsIn(sender="+84900000000", text="1")
        ignored = followup.answer_sms(session, stranger, settings)
    with sessions() as session:
        answered = session.get_one(Notification, asked.id)
    assert reply is not None and ignored is None
    assert answered.reply is Reply.STILL_OUT and answered.reply_report_id is not None


def test_customers_of_a_nested_outage_are_not_told_their_power_is_back(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage
) -> None:
    parent = open_outage(grid.breaker)
    with session_scope(sessions) as session:
        open_nested(
            session,
            parent,
            device_asset_ref=grid.fuse,
            confidence=0.8,
            customers_affected=3,
            reason="still out below",
        )
    _restore(sessions, parent)
    drain()
    with sessions() as session:
        told = {m.customer_id for m in messages_of(session, parent) if m.kind is EventKind.RESTORED}
        nested = set(customer_ids(session, grid.accounts[grid.fuse]))
        everyone = set(customer_ids(session, grid.accounts[grid.breaker]))
    assert told == everyone - nested


def test_an_sms_1_through_the_gateway_webhook_files_the_report(
    sessions: sessionmaker[Session],
    settings: Settings,
    staff: Credentials,
    drain: Drain,
    grid: Grid,
    open_outage,
) -> None:
    incident = open_outage(grid.fuse)
    _restore(sessions, incident)
    drain()
    with sessions() as session:
        asked = _follow_ups(session, incident)[0]
    with TestClient(create_app(str(settings.database_url), settings)) as client:
        answer = client.post(
            "/api/v1/channels/sms",
            json={"from": asked.address, "text": "1", "message_id": "follow-up-answer"},
            headers=staff.key(Scope.CHANNELS),
        )
    assert answer.status_code == 200
    with sessions() as session:
        report = session.scalars(
            select(Report).where(Report.customer_id == asked.customer_id)
        ).one()
    assert report.ticket in answer.json()["reply"]


def test_a_restoration_naming_customers_tells_exactly_them(
    sessions: sessionmaker[Session], drain: Drain, grid: Grid, open_outage
) -> None:
    incident = open_outage(grid.fuse)
    named = frozenset(sorted(grid.accounts[grid.fuse])[:2])
    with session_scope(sessions) as session:
        outage = session.get(Incident, incident)
        assert outage is not None
        incident_event(session, outage, EventKind.RESTORED, accounts=sorted(named))
    drain()
    with sessions() as session:
        ids = customer_ids(session, grid.accounts[grid.fuse])
        told = {
            ids[m.customer_id]
            for m in messages_of(session, incident)
            if m.kind is EventKind.RESTORED and m.customer_id is not None
        }
    assert told == named
