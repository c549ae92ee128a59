"""Replies to a customer's own message on a channel that answers apart from its webhook.

Zalo ignores what its webhook answers, so a reply is sent through the Official Account
API instead. It is a message row of kind `reply` (no outbox event, and no customer when
the sender is not known to be one), written in the transaction that took the customer's
message in, so the report and its reply commit together; the delivery workers send it
like any other message, with their retries and dead letters.
"""

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from outage import clock
from outage.grid.regions import UNPLACED
from outage.i18n import Language
from outage.notifications.enums import DeliveryChannel, DeliveryStatus
from outage.notifications.events import REPLY_KEY
from outage.notifications.models import Notification
from outage.outbox.enums import EventKind


def reply_key(message_key: str) -> str:
    """The delivery key of the reply to one inbound message: one reply each."""
    return f"{REPLY_KEY}:{message_key}"


def queue_reply(
    session: Session,
    *,
    channel: DeliveryChannel,
    address: str,
    text: str,
    language: Language,
    message_key: str,
    safety: bool = False,
) -> None:
    """Queue `text` for `address`, once per inbound message (`message_key`)."""
    now = clock.now()
    session.execute(
        insert(Notification)
        .values(
            event_id=None,
            customer_id=None,
            substation_id=UNPLACED,  # its sender is not known to be anyone's customer
            kind=EventKind.REPLY,
            channel=channel,
            address=address,
            language=language,
            subject="",
            body=text,
            safety=safety,
            status=DeliveryStatus.PENDING,
            attempts=0,
            due_at=now,
            next_attempt_at=now,
            delivery_key=reply_key(message_key),
        )
        .on_conflict_do_nothing(constraint="uq_notifications_delivery_key")
    )
