"""The message backlog, for the supervisor's live panel: what is still to go out to
customers, and what failed."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from outage.notifications.enums import DeliveryStatus
from outage.notifications.models import OPEN_SQL, Notification

RECENT = timedelta(hours=1)
"""Messages given up on count when they were given up within this long."""


@dataclass(frozen=True)
class MessageBacklog:
    waiting: int
    """Not sent yet: due now, or held for later (quiet hours, a retry's back-off)."""
    retrying: int
    """Of those waiting, the ones that failed at least once."""
    sending: int
    """Claimed by a delivery worker, with the gateway now."""
    dead_recently: int
    """Given up on within `RECENT`: too many attempts, or no gateway for the channel."""


def message_backlog(session: Session, *, now: datetime) -> MessageBacklog:
    """Two reads, each on its partial index: the open messages, and the recent dead."""
    pending = Notification.status == DeliveryStatus.PENDING
    waiting, retrying, sending = session.execute(
        select(
            func.count().filter(pending),
            func.count().filter(pending, Notification.attempts > 0),
            func.count().filter(Notification.status == DeliveryStatus.SENDING),
        ).where(text(OPEN_SQL))
    ).one()
    dead = session.scalar(
        select(func.count()).where(text("status = 'dead'"), Notification.updated_at >= now - RECENT)
    )
    return MessageBacklog(waiting, retrying, sending, dead or 0)
