"""The unsubscribe link every message carries: what it would stop, and stopping it.

The link's secret is the message's `stop_token`. It stops the contact the message went
to: the subscription it was sent for, or the customer's own contact; like an SMS STOP,
nothing more goes to it, safety messages included. Reading it changes
nothing, so a mail scanner following links stops no one; only the page's POST does.
"""

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.i18n import Language
from outage.notifications.models import Notification, NotificationPreference, Subscription
from outage.notifications.selfservice import masked
from outage.notifications.subscriptions import Actor, set_own_stop, stop

LINK = Actor.contact("link")


@dataclass(frozen=True)
class StopView:
    """What the page may show: the contact masked, nothing of the customer."""

    language: Language
    contact: str
    follows: Literal["own", "account", "address"]
    """The customer's own contact, or a contact following an account or an address."""
    stopped: bool


def _message(session: Session, token: str) -> Notification | None:
    return session.scalar(select(Notification).where(Notification.stop_token == token[:64]))


def _view(session: Session, message: Notification) -> StopView:
    contact = masked(message.channel, message.address)
    if message.subscription_id is not None:
        row = session.get_one(Subscription, message.subscription_id)
        follows: Literal["own", "account", "address"] = (
            "account" if row.customer_id is not None else "address"
        )
        return StopView(row.language, contact, follows, row.stopped_at is not None)
    stopped_at = session.scalar(
        select(NotificationPreference.stopped_at).where(
            NotificationPreference.customer_id == message.customer_id
        )
    )
    return StopView(message.language, contact, "own", stopped_at is not None)


def find(session: Session, token: str) -> StopView | None:
    """What the link would stop; None for an unknown token."""
    message = _message(session, token)
    return _view(session, message) if message is not None else None


def stop_by_link(session: Session, token: str) -> StopView | None:
    """Stop the contact the message went to; None for an unknown token."""
    message = _message(session, token)
    if message is None:
        return None
    if message.subscription_id is not None:
        row = session.scalar(
            select(Subscription).where(Subscription.id == message.subscription_id).with_for_update()
        )
        assert row is not None  # the foreign key holds it
        stop(session, row, LINK)
    elif message.customer_id is not None:
        set_own_stop(session, message.customer_id, True, LINK)
    session.flush()
    return _view(session, message)
