"""Alert subscriptions: a contact follows a customer's account or a premise.

Any channel subscribes a contact with `subscribe` (the SMS keywords, the web with a code,
an agent for the caller on the line, a chat channel with its user id): the channel is a
parameter, the contact's address is normalised for it (`contact_address`). A contact
already subscribed to the same target is found, not duplicated. Every change is written
to the audit trail (`subscription_events`) with who made it: the contact itself through
a channel, or a staff user.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import time
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from outage import clock
from outage.errors import Invalid, NotFound
from outage.grid.models import Customer
from outage.i18n import Language
from outage.intake.geocode import Clues, locate
from outage.intake.phones import InvalidPhone, to_e164
from outage.notifications.enums import (
    DeliveryChannel,
    DeliveryStatus,
    SubscriptionAction,
    SubscriptionSource,
)
from outage.notifications.events import QuietHours
from outage.notifications.models import (
    Notification,
    NotificationPreference,
    Subscription,
    SubscriptionEvent,
)
from outage.notifications.preferences import UnknownCustomer, own_customers
from outage.settings import Settings

ADDRESS_MAX = 254
"""The longest contact address taken (an e-mail address's limit)."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

CONTACT = "contact"
"""The actor of a change the subscriber made through a channel."""


class InvalidContact(Invalid, ValueError):
    """Not an address of that channel."""


class UnknownAddress(Invalid, LookupError):
    """An address that names no one premise of ours."""


class UnknownSubscription(NotFound, LookupError):
    """No subscription with that id or token."""


@dataclass(frozen=True)
class Actor:
    """Who changes a subscription: the contact itself through a channel, or a staff user."""

    name: str
    via: str

    @classmethod
    def contact(cls, via: str) -> "Actor":
        return cls(CONTACT, via)

    @classmethod
    def staff(cls, username: str) -> "Actor":
        return cls(username, SubscriptionSource.AGENT.value)


@dataclass(frozen=True)
class Target:
    """What a contact follows: a customer's account, or a premise."""

    customer_id: int | None = None
    premise_id: int | None = None


def contact_address(channel: DeliveryChannel, raw: str) -> str:
    """The address in the one form it is stored and matched in: a phone in E.164 (as
    intake stores phones), an e-mail address in lower case, any other channel's user id
    as given."""
    text = raw.strip()
    if not text or len(text) > ADDRESS_MAX:
        raise InvalidContact(f"a {channel.value} address has 1 to {ADDRESS_MAX} characters")
    if channel is DeliveryChannel.SMS:
        try:
            return to_e164(text)
        except InvalidPhone as exc:
            raise InvalidContact(str(exc)) from exc
    if channel is DeliveryChannel.EMAIL:
        if not _EMAIL.match(text):
            raise InvalidContact(f"not an e-mail address: {raw!r}")
        return text.lower()
    return text


def account_target(session: Session, account: str, *, premise: bool = False) -> Target:
    """The customer with that account, or (`premise`) the premise the account is supplied
    at: the address itself, whoever its customer is later."""
    found = session.execute(
        select(Customer.id, Customer.premise_id).where(Customer.account == account.strip())
    ).first()
    if found is None:
        raise UnknownCustomer(f"no customer with account {account!r}")
    return Target(premise_id=found.premise_id) if premise else Target(customer_id=found.id)


def address_target(session: Session, address: str, settings: Settings) -> Target:
    """The one premise intake's geocoder finds for the address text."""
    match = locate(session, Clues(address=address), settings)
    if match.place is None or match.place.premise_id is None:
        raise UnknownAddress("the address names no one premise of ours: give the account")
    return Target(premise_id=match.place.premise_id)


def record(
    session: Session,
    action: SubscriptionAction,
    actor: Actor,
    *,
    subscription_id: int | None = None,
    customer_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """One row of the audit trail (of a subscription, or of a customer's own contact)."""
    session.add(
        SubscriptionEvent(
            subscription_id=subscription_id,
            customer_id=customer_id,
            action=action,
            actor=actor.name,
            via=actor.via,
            details=details or {},
        )
    )


def _find(
    session: Session, channel: DeliveryChannel, address: str, target: Target
) -> Subscription | None:
    query = select(Subscription).where(
        Subscription.channel == channel, Subscription.address == address
    )
    if target.customer_id is not None:
        query = query.where(Subscription.customer_id == target.customer_id)
    else:
        query = query.where(Subscription.premise_id == target.premise_id)
    return session.scalar(query.with_for_update())


def subscribe(
    session: Session,
    *,
    channel: DeliveryChannel,
    address: str,
    target: Target,
    language: Language,
    source: SubscriptionSource,
    actor: Actor,
    verified: bool,
    quiet: tuple[time, time] | None = None,
) -> Subscription:
    """The contact's subscription to the target, made or found again (idempotent).

    `address` is normalised for the channel. `verified` when the channel itself proves
    the contact is the one asking (an SMS from that phone, a chat message from that
    user, an agent with the caller on the line); else it waits for a code. A verified
    request resumes a stopped subscription in the language asked for; an unverified
    one changes nothing of an existing subscription until its code is given.
    """
    address = contact_address(channel, address)
    now = clock.now()
    found = _find(session, channel, address, target)
    if found is None:
        made = session.scalar(
            insert(Subscription)
            .values(
                channel=channel,
                address=address,
                customer_id=target.customer_id,
                premise_id=target.premise_id,
                language=language,
                quiet_start=quiet[0] if quiet else None,
                quiet_end=quiet[1] if quiet else None,
                source=source,
                token=secrets.token_urlsafe(24),
                verified_at=now if verified else None,
            )
            .on_conflict_do_nothing()
            .returning(Subscription.id)
        )
        found = _find(session, channel, address, target)
        assert found is not None  # inserted now, or by a concurrent request
        if made is not None:
            record(session, SubscriptionAction.CREATED, actor, subscription_id=found.id)
            if verified:
                record(session, SubscriptionAction.VERIFIED, actor, subscription_id=found.id)
            return found
    if verified:
        confirm(session, found, actor, language=language)
    return found


def follow_account(
    session: Session,
    *,
    channel: DeliveryChannel,
    address: str,
    account: str,
    language: Language,
) -> Subscription:
    """What a channel that knows its sender calls (the SMS keywords; a chat channel with
    its user id as the address): the sender follows the account, verified by the channel
    itself, audited as the contact through that channel. The channel is also the
    subscription's source, so a new channel adds its value to `SubscriptionSource` (and
    the `subscription_source` check) beside `DeliveryChannel`. UnknownCustomer for an
    unknown account, InvalidContact for an address the channel cannot take."""
    return subscribe(
        session,
        channel=channel,
        address=address,
        target=account_target(session, account),
        language=language,
        source=SubscriptionSource(channel.value),
        actor=Actor.contact(channel.value),
        verified=True,
    )


def confirm(
    session: Session, row: Subscription, actor: Actor, *, language: Language | None = None
) -> None:
    """The contact is proven the subscriber's: verified, and resumed if it was stopped."""
    now = clock.now()
    if row.verified_at is None:
        row.verified_at = now
        record(session, SubscriptionAction.VERIFIED, actor, subscription_id=row.id)
    if row.stopped_at is not None:
        row.stopped_at = None
        record(session, SubscriptionAction.RESUMED, actor, subscription_id=row.id)
    if language is not None and row.language is not language:
        record(
            session,
            SubscriptionAction.CHANGED,
            actor,
            subscription_id=row.id,
            details={"language": language.value},
        )
        row.language = language
    session.flush()


def stop(session: Session, row: Subscription, actor: Actor) -> None:
    """No more messages to this contact for this target, safety ones included."""
    if row.stopped_at is None:
        row.stopped_at = clock.now()
        record(session, SubscriptionAction.STOPPED, actor, subscription_id=row.id)
        _skip_waiting(session, Notification.subscription_id == row.id)
        session.flush()


def _skip_waiting(session: Session, *to: Any) -> None:
    """Messages still waiting for a contact that has just stopped (for quiet hours, an
    ETR's interval) are not sent: a STOP means stop from now on."""
    session.execute(
        update(Notification)
        .where(*to, Notification.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SKIPPED, last_error="the contact stopped its messages")
    )


def change(
    session: Session,
    row: Subscription,
    actor: Actor,
    *,
    language: Language | None = None,
    quiet: QuietHours | tuple[time, time] | None = None,
) -> None:
    """Change the subscription's language or quiet hours (left out: kept)."""
    changed: dict[str, str] = {}
    if language is not None and language is not row.language:
        row.language = language
        changed["language"] = language.value
    if quiet is not None:
        start, end = (quiet.start, quiet.end) if isinstance(quiet, QuietHours) else quiet
        if (row.quiet_start, row.quiet_end) != (start, end):
            row.quiet_start, row.quiet_end = start, end
            changed["quiet_hours"] = f"{start:%H:%M}-{end:%H:%M}"
    if changed:
        record(session, SubscriptionAction.CHANGED, actor, subscription_id=row.id, details=changed)
        session.flush()


def by_token(session: Session, token: str) -> Subscription:
    row = session.scalar(
        select(Subscription).where(Subscription.token == token[:64]).with_for_update()
    )
    if row is None:
        raise UnknownSubscription("no subscription with that token")
    return row


def of_customer(session: Session, customer_id: int) -> list[Subscription]:
    """The contacts following a customer's account, oldest first."""
    return list(
        session.scalars(
            select(Subscription)
            .where(Subscription.customer_id == customer_id)
            .order_by(Subscription.id)
        )
    )


def set_own_stop(session: Session, customer_id: int, stopped: bool, actor: Actor) -> None:
    """The customer's own contact stops hearing from us at all (or starts again), audited.

    A stop is the customer's own opt-out, with safety messages too (`stopped_at`);
    starting again clears both.
    """
    current = session.execute(
        select(NotificationPreference.opt_out, NotificationPreference.stopped_at).where(
            NotificationPreference.customer_id == customer_id
        )
    ).first()
    was_stopped = current is not None and current.stopped_at is not None
    if stopped is was_stopped and (stopped or current is None or not current.opt_out):
        return
    values = {"opt_out": stopped, "stopped_at": clock.now() if stopped else None}
    session.execute(
        insert(NotificationPreference)
        .values(customer_id=customer_id, **values)
        .on_conflict_do_update(index_elements=["customer_id"], set_=values)
    )
    action = SubscriptionAction.STOPPED if stopped else SubscriptionAction.RESUMED
    record(session, action, actor, customer_id=customer_id)
    if stopped:
        _skip_waiting(
            session,
            Notification.customer_id == customer_id,
            Notification.subscription_id.is_(None),
        )


def stop_contact(
    session: Session,
    channel: DeliveryChannel,
    address: str,
    actor: Actor,
    *,
    customer_id: int | None = None,
) -> int:
    """Stop every subscription of the contact (only those following `customer_id`, when
    given) and the customers' own contact when it is theirs; how many stopped."""
    query = select(Subscription).where(
        Subscription.channel == channel,
        Subscription.address == address,
        Subscription.stopped_at.is_(None),
    )
    if customer_id is not None:
        query = query.where(Subscription.customer_id == customer_id)
    rows = list(session.scalars(query.with_for_update()))
    for row in rows:
        stop(session, row, actor)
    owners = own_customers(session, channel, address, customer_id=customer_id)
    for owner in owners:
        set_own_stop(session, owner, True, actor)
    session.flush()
    return len(rows) + len(owners)
