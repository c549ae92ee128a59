"""Replies to a customer's own Zalo message: sent by the delivery workers through Zalo's
OA API, once, retried while it fails, and dead-lettered with Zalo's reason."""

import time

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from outage.db import session_scope
from outage.i18n import Language
from outage.notifications.delivery import Worker
from outage.notifications.enums import DeliveryChannel, DeliveryStatus
from outage.notifications.models import Notification
from outage.notifications.replies import queue_reply, reply_key
from outage.notifications.sink import HttpSink
from outage.settings import Settings

from .conftest import Drain


def _queue(sessions: sessionmaker[Session], key: str, text: str = "Xin chào") -> None:
    with session_scope(sessions) as session:
        queue_reply(
            session,
            channel=DeliveryChannel.ZALO,
            address="zalo-user-1",
            text=text,
            language=Language.VI,
            message_key=key,
        )


def _reply(sessions: sessionmaker[Session], key: str) -> Notification:
    with sessions() as session:
        return session.scalars(
            select(Notification).where(Notification.delivery_key == reply_key(key))
        ).one()


def test_a_reply_reaches_the_zalo_user_through_the_oa_api(
    sessions: sessionmaker[Session], sink: HttpSink, drain: Drain
) -> None:
    _queue(sessions, "zalo:m1", "Đã nhận báo mất điện")
    drain()
    assert list(sink.received().values()) == [
        {"channel": "zalo", "to": "zalo-user-1", "message": "Đã nhận báo mất điện"}
    ]
    assert _reply(sessions, "zalo:m1").status is DeliveryStatus.SENT


def test_one_message_is_replied_to_once(
    sessions: sessionmaker[Session], sink: HttpSink, drain: Drain
) -> None:
    _queue(sessions, "zalo:m2")
    _queue(sessions, "zalo:m2")
    drain()
    assert len(sink.received()) == 1


def test_a_failing_zalo_api_is_retried_then_the_reply_dead_lettered_with_its_reason(
    sessions: sessionmaker[Session], sink: HttpSink, settings: Settings
) -> None:
    worker = Worker(sessions, settings.model_copy(update={"notify_max_attempts": 3}))
    sink.fail(seconds=30)
    _queue(sessions, "zalo:m3")
    deadline = time.monotonic() + 10
    while _reply(sessions, "zalo:m3").status is not DeliveryStatus.DEAD:
        assert time.monotonic() < deadline, "never dead-lettered"
        worker.run_once()
        time.sleep(0.05)
    dead = _reply(sessions, "zalo:m3")
    assert dead.attempts == 3 and sink.state.refused == 3
    assert dead.last_error is not None and "told to fail" in dead.last_error
    assert sink.received() == {}


def test_a_wrong_access_token_is_the_reason_given(
    sessions: sessionmaker[Session], settings: Settings, drain: Drain
) -> None:
    wrong = settings.model_copy(update={"zalo_access_token": SecretStr("not-the-token")})
    _queue(sessions, "zalo:m4")
    drain(using=Worker(sessions, wrong))
    refused = _reply(sessions, "zalo:m4")
    assert refused.status is DeliveryStatus.PENDING
    assert refused.last_error is not None and "Access token is invalid" in refused.last_error
