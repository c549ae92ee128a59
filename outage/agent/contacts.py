"""The contacts that follow a caller's account: an agent lists them, adds one the caller
gives on the line (the agent vouches for it, so it is verified at once) or stops one.
Every change is audited with the agent's username."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from outage.agent.schemas import ContactIn, ContactOut
from outage.notifications import subscriptions
from outage.notifications.enums import SubscriptionSource
from outage.notifications.models import Subscription
from outage.notifications.selfservice import quiet_hours


def _out(row: Subscription) -> ContactOut:
    quiet = (
        f"{row.quiet_start:%H:%M}-{row.quiet_end:%H:%M}"
        if row.quiet_start is not None and row.quiet_end is not None
        else None
    )
    return ContactOut(
        id=row.id,
        channel=row.channel,
        address=row.address,
        language=row.language,
        quiet_hours=quiet,
        verified=row.verified_at is not None,
        stopped=row.stopped_at is not None,
        source=row.source,
    )


def contacts_of(session: Session, account: str) -> list[ContactOut]:
    """The contacts following the account, oldest first."""
    target = subscriptions.account_target(session, account)
    assert target.customer_id is not None
    return [_out(row) for row in subscriptions.of_customer(session, target.customer_id)]


def add_contact(session: Session, account: str, given: ContactIn, *, agent: str) -> ContactOut:
    """The caller's contact follows their account (found again if it did already)."""
    row = subscriptions.subscribe(
        session,
        channel=given.channel,
        address=given.contact,
        target=subscriptions.account_target(session, account),
        language=given.language,
        source=SubscriptionSource.AGENT,
        actor=subscriptions.Actor.staff(agent),
        verified=True,
        quiet=quiet_hours(given.quiet_hours),
    )
    return _out(row)


def stop_contact(session: Session, subscription_id: int, *, agent: str) -> ContactOut:
    row = session.scalar(
        select(Subscription).where(Subscription.id == subscription_id).with_for_update()
    )
    if row is None:
        raise subscriptions.UnknownSubscription(f"no contact {subscription_id}")
    subscriptions.stop(session, row, subscriptions.Actor.staff(agent))
    return _out(row)
