"""One-time codes that prove a contact given on the web is the subscriber's.

A code is six random digits, stored hashed (with its subscription's id), valid for
`subscription_code_minutes`, and spent after `subscription_code_tries` wrong answers; a
contact is sent at most `subscription_codes_per_hour` codes, and everyone together at
most `subscription_codes_per_hour_total` (a script pumping codes to numbers it makes up
costs the utility its SMS). Each code has a random handle, the only name it is given back
under. The message that carries it is written to `notifications` in the caller's
transaction, so it is committed with the pending subscription, and the delivery workers
send it like any other.
"""

import hashlib
import hmac
import math
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from outage import clock
from outage.errors import RateLimited
from outage.grid.regions import UNPLACED, substations_of_customers
from outage.notifications.enums import DeliveryStatus, SubscriptionAction
from outage.notifications.events import CODE_KEY
from outage.notifications.fanout import stop_link
from outage.notifications.models import Notification, Subscription, SubscriptionCode
from outage.notifications.subscriptions import Actor, confirm, record
from outage.notifications.texts import Facts, render
from outage.outbox.enums import EventKind
from outage.settings import Settings

DIGITS = 6
WINDOW = timedelta(hours=1)
"""The window of `subscription_codes_per_hour`."""


class Outcome(StrEnum):
    """What came of a code given back."""

    VERIFIED = "verified"
    WRONG = "wrong"
    EXPIRED = "expired"
    """Too old, or none was sent: ask for a new one."""
    SPENT = "spent"
    """Too many wrong answers: ask for a new one."""


def _digest(subscription_id: int, code: str) -> str:
    return hashlib.sha256(f"{subscription_id}:{code}".encode()).hexdigest()


def send_code(
    session: Session, row: Subscription, actor: Actor, settings: Settings, now: datetime
) -> SubscriptionCode:
    """Write a new code and the message that carries it; RateLimited past the limits."""
    since = now - WINDOW
    everyone = session.scalar(
        select(func.count())
        .select_from(SubscriptionCode)
        .where(SubscriptionCode.created_at > since)
    )
    if (everyone or 0) >= settings.subscription_codes_per_hour_total:
        raise RateLimited("service", int(WINDOW.total_seconds()), doing="codes sent by")
    sent = session.scalars(
        select(SubscriptionCode.created_at)
        .where(
            SubscriptionCode.channel == row.channel,
            SubscriptionCode.address == row.address,
            SubscriptionCode.created_at > since,
        )
        .order_by(SubscriptionCode.created_at)
    ).all()
    if len(sent) >= settings.subscription_codes_per_hour:
        wait = math.ceil((sent[0] + WINDOW - now).total_seconds())
        raise RateLimited("contact", max(1, wait), doing="codes sent to")
    session.execute(
        update(SubscriptionCode)
        .where(SubscriptionCode.subscription_id == row.id, SubscriptionCode.used_at.is_(None))
        .values(used_at=now)
    )  # a new code replaces the older ones
    code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
    stored = SubscriptionCode(
        subscription_id=row.id,
        handle=secrets.token_urlsafe(16),
        channel=row.channel,
        address=row.address,
        code_hash=_digest(row.id, code),
        expires_at=now + settings.subscription_code_minutes,
        tries=0,
        created_at=now,
    )
    session.add(stored)
    session.flush()
    stop_token = secrets.token_urlsafe(16)
    facts = Facts(code=code, stop_link=stop_link(settings, stop_token))
    kind = EventKind.SUBSCRIPTION_CODE
    rendered = render(kind, row.language, row.channel, facts, settings.local_timezone)
    session.add(
        Notification(
            customer_id=row.customer_id,
            substation_id=_substation(session, row.customer_id),
            subscription_id=row.id,
            kind=kind,
            channel=row.channel,
            address=row.address,
            language=row.language,
            subject=rendered.subject,
            body=rendered.body,
            safety=False,
            status=DeliveryStatus.PENDING,
            attempts=0,
            due_at=clock.now(),  # the code's life is wall time, its message's due time not
            next_attempt_at=clock.now(),
            delivery_key=f"{CODE_KEY}:{stored.id}",
            stop_token=stop_token,
        )
    )
    record(session, SubscriptionAction.CODE_SENT, actor, subscription_id=row.id)
    session.flush()
    return stored


def _substation(session: Session, customer_id: int | None) -> int:
    if customer_id is None:
        return UNPLACED
    return substations_of_customers(session, {customer_id}).get(customer_id, UNPLACED)


def code_named(session: Session, handle: str) -> SubscriptionCode | None:
    """The code with this handle, locked (its tries count); None for an unknown one."""
    return session.scalar(
        select(SubscriptionCode).where(SubscriptionCode.handle == handle[:32]).with_for_update()
    )


def check_code(
    session: Session,
    sent: SubscriptionCode,
    code: str,
    actor: Actor,
    settings: Settings,
    now: datetime,
) -> Outcome:
    """Compare the code with the one sent (in constant time); a right one verifies the
    subscription, a wrong one counts against the code. The caller commits either way."""
    if sent.used_at is not None or sent.expires_at <= now:
        return Outcome.EXPIRED
    if sent.tries >= settings.subscription_code_tries:
        return Outcome.SPENT
    if not hmac.compare_digest(_digest(sent.subscription_id, code.strip()), sent.code_hash):
        sent.tries += 1
        session.flush()
        return Outcome.WRONG
    sent.used_at = now
    confirm(session, session.get_one(Subscription, sent.subscription_id), actor)
    return Outcome.VERIFIED


def forget_codes(session: Session, *, before: datetime) -> int:
    """Drop the codes sent before `before` (past their expiry and the hourly window, they
    hold a contact's address and count for nothing any more); how many."""
    forgotten = session.scalars(
        delete(SubscriptionCode)
        .where(SubscriptionCode.created_at < before)
        .returning(SubscriptionCode.id)
    )
    return len(forgotten.all())
