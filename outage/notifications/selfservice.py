"""What a subscriber does on the web: ask for alerts, prove the contact with its code,
then change or stop them with the subscription's token.

Answers show the contact masked and nothing of the customer but the account number the
subscriber gave: whoever holds a link may read it.
"""

from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.errors import Invalid
from outage.grid.models import Customer
from outage.notifications.codes import Outcome, check_code, send_code
from outage.notifications.enums import DeliveryChannel, SubscriptionSource
from outage.notifications.models import Subscription
from outage.notifications.schemas import (
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
    SubscriptionPending,
)
from outage.notifications.subscriptions import (
    Actor,
    UnknownSubscription,
    account_target,
    address_target,
    change,
    stop,
    subscribe,
)
from outage.settings import Settings

WEB = Actor.contact(SubscriptionSource.WEB.value)


class OtherChannel(Invalid, ValueError):
    """A subscription's channel is its contact's: another one needs a contact of its own."""


def quiet_hours(text: str | None) -> tuple[time, time] | None:
    """'22:00-06:00' as its two times (the schemas check the form)."""
    if text is None:
        return None
    start, end = text.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def masked(channel: DeliveryChannel, address: str) -> str:
    """Enough of the contact for its owner to know it: '+849*****333', 'l***@example.com'."""
    if channel is DeliveryChannel.EMAIL and "@" in address:
        name, _, domain = address.partition("@")
        return f"{name[:1]}***@{domain}"
    if len(address) <= 6:
        return "*" * len(address)
    return f"{address[:4]}{'*' * (len(address) - 7)}{address[-3:]}"


def view(session: Session, row: Subscription) -> SubscriptionOut:
    account = None
    if row.customer_id is not None:
        account = session.scalar(select(Customer.account).where(Customer.id == row.customer_id))
    quiet = (
        f"{row.quiet_start:%H:%M}-{row.quiet_end:%H:%M}"
        if row.quiet_start is not None and row.quiet_end is not None
        else None
    )
    return SubscriptionOut(
        id=row.id,
        target="account" if row.customer_id is not None else "address",
        account=account,
        channel=row.channel,
        contact=masked(row.channel, row.address),
        language=row.language,
        quiet_hours=quiet,
        verified=row.verified_at is not None,
        stopped=row.stopped_at is not None,
        source=row.source,
    )


def request(
    session: Session, asked: SubscriptionIn, settings: Settings, now: datetime
) -> SubscriptionPending:
    """The pending subscription (or the contact's existing one) and its code, on its way.

    The answer is the same whether the contact was subscribed already or not.
    """
    if asked.account is not None:
        target = account_target(session, asked.account, premise=asked.follow == "address")
    else:
        target = address_target(session, asked.address or "", settings)
    row = subscribe(
        session,
        channel=asked.chosen_channel,
        address=asked.contact,
        target=target,
        language=asked.language,
        source=SubscriptionSource.WEB,
        actor=WEB,
        verified=False,
        quiet=quiet_hours(asked.quiet_hours),
    )
    send_code(session, row, WEB, settings, now)
    minutes = int(settings.subscription_code_minutes.total_seconds() // 60)
    return SubscriptionPending(id=row.id, code_expires_in_minutes=minutes)


def resend(
    session: Session, subscription_id: int, settings: Settings, now: datetime
) -> SubscriptionPending:
    """Another code for a subscription (within the contact's hourly limit)."""
    row = _by_id(session, subscription_id)
    send_code(session, row, WEB, settings, now)
    minutes = int(settings.subscription_code_minutes.total_seconds() // 60)
    return SubscriptionPending(id=row.id, code_expires_in_minutes=minutes)


def verify(
    session: Session, subscription_id: int, code: str, settings: Settings, now: datetime
) -> tuple[Outcome, Subscription]:
    """Check the code; the caller commits whatever the outcome (a wrong try counts)."""
    row = _by_id(session, subscription_id)
    return check_code(session, row, code, WEB, settings, now), row


def amend(session: Session, row: Subscription, patch: SubscriptionPatch) -> SubscriptionOut:
    if patch.channel is not None and patch.channel is not row.channel:
        raise OtherChannel(
            "a subscription keeps its contact's channel: subscribe the other contact instead"
        )
    change(session, row, WEB, language=patch.language, quiet=quiet_hours(patch.quiet_hours))
    return view(session, row)


def unsubscribe(session: Session, row: Subscription) -> SubscriptionOut:
    stop(session, row, WEB)
    return view(session, row)


def _by_id(session: Session, subscription_id: int) -> Subscription:
    row = session.scalar(
        select(Subscription).where(Subscription.id == subscription_id).with_for_update()
    )
    if row is None:
        raise UnknownSubscription(f"no subscription {subscription_id}")
    return row
