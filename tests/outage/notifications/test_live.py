"""The message backlog on the real database: each message counts where its status puts
it (other suites' messages share the database, so the tests compare before and after)."""

import uuid
from collections.abc import Iterator
from dataclasses import astuple
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from outage.notifications.enums import DeliveryChannel, DeliveryStatus
from outage.notifications.live import message_backlog
from outage.notifications.models import Notification
from outage.outbox.enums import EventKind
from tests.conftest import rolled_back


@pytest.fixture
def session(grid_database: str) -> Iterator[Session]:
    with rolled_back(grid_database) as db:
        yield db


def _message(
    session: Session, status: DeliveryStatus, *, attempts: int = 0, updated: datetime | None = None
) -> None:
    now = datetime.now(UTC)
    session.add(
        Notification(
            kind=EventKind.REPLY,
            channel=DeliveryChannel.SMS,
            address="0912000000",
            language="vi",
            subject="",
            body="Đã nhận",
            status=status,
            attempts=attempts,
            due_at=now,
            next_attempt_at=now,
            delivery_key=uuid.uuid4().hex,
            **({"updated_at": updated} if updated else {}),
        )
    )
    session.flush()


def _change(
    session: Session, add: DeliveryStatus, *, attempts: int = 0, updated: datetime | None = None
) -> tuple[int, ...]:
    """How each figure (waiting, retrying, sending, dead recently) moves with one message."""
    before = astuple(message_backlog(session, now=datetime.now(UTC)))
    _message(session, add, attempts=attempts, updated=updated)
    after = astuple(message_backlog(session, now=datetime.now(UTC)))
    return tuple(a - b for a, b in zip(after, before, strict=True))


def test_a_pending_message_is_waiting(session: Session) -> None:
    assert _change(session, DeliveryStatus.PENDING) == (1, 0, 0, 0)


def test_a_pending_message_that_failed_is_waiting_and_retrying(session: Session) -> None:
    assert _change(session, DeliveryStatus.PENDING, attempts=2) == (1, 1, 0, 0)


def test_a_claimed_message_is_sending(session: Session) -> None:
    assert _change(session, DeliveryStatus.SENDING) == (0, 0, 1, 0)


def test_a_message_given_up_just_now_is_dead_recently(session: Session) -> None:
    assert _change(session, DeliveryStatus.DEAD) == (0, 0, 0, 1)


def test_a_message_given_up_hours_ago_is_not_counted(session: Session) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=3)
    assert _change(session, DeliveryStatus.DEAD, updated=long_ago) == (0, 0, 0, 0)
