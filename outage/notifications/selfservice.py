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
from outage.notifications.codes import Outcome, check_code, code_named, send_code
from outage.notifications.enums import DeliveryChannel, SubscriptionSource
from outage.notifications.models import Subscription, SubscriptionCode
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

    The answer is the same whether the contact was subscribed already or not: a new
    random handle for the code, never the subscription's id.
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
    return _pending(send_code(session, row, WEB, settings, now), settings)


def _pending(sent: SubscriptionCode, settings: Settings) -> SubscriptionPending:
    minutes = int(settings.subscription_code_minutes.total_seconds() // 60)
    return SubscriptionPending(handle=sent.handle, code_expires_in_minutes=minutes)


def _code(session: Session, handle: str) -> SubscriptionCode:
    sent = code_named(session, handle)
    if sent is None:
        raise UnknownSubscription("no code was sent under that handle")
    return sent


def resend(session: Session, handle: str, settings: Settings, now: datetime) -> SubscriptionPending:
    """Another code for the subscription a code was sent for (within the limits)."""
    row = session.get_one(Subscription, _code(session, handle).subscription_id)
    return _pending(send_code(session, row, WEB, settings, now), settings)


def verify(
    session: Session, handle: str, code: str, settings: Settings, now: datetime
) -> tuple[Outcome, Subscription]:
    """Check the code; the caller commits whatever the outcome (a wrong try counts)."""
    sent = _code(session, handle)
    outcome = check_code(session, sent, code, WEB, settings, now)
    return outcome, session.get_one(Subscription, sent.subscription_id)


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
