"""Who gets a message, where and in which language: customers' preferences over defaults,
and the contacts that follow them."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import time

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from outage.care.models import ServiceRequest
from outage.errors import NotFound
from outage.grid.models import Customer
from outage.i18n import DEFAULT_LANGUAGE, Language
from outage.intake.enums import Channel
from outage.intake.models import Report
from outage.notifications.enums import DeliveryChannel
from outage.notifications.events import QuietHours, contact_key
from outage.notifications.models import NotificationPreference, Subscription
from outage.notifications.schemas import PreferencesIn, PreferencesOut


class UnknownCustomer(NotFound, LookupError):
    """No customer with that account."""


@dataclass(frozen=True)
class Recipient:
    customer_id: int | None
    """None: a service request's requester who is no customer on record."""
    account: str | None
    channel: DeliveryChannel
    address: str
    language: Language
    opt_out: bool
    quiet: QuietHours | None
    subscription_id: int | None = None
    """A contact that follows the customer (or their premise); None: the customer's own."""

    @property
    def contact(self) -> tuple[DeliveryChannel, str]:
        """Where the message goes, as subscriptions store it."""
        if self.channel is DeliveryChannel.EMAIL:
            return self.channel, self.address.lower()
        return self.channel, self.address

    @property
    def contact_key(self) -> str | None:
        """The subscribed contact in the delivery key; None for the customer's own."""
        return None if self.subscription_id is None else contact_key(*self.contact)


def _quiet(
    start: time | None, end: time | None, default_quiet: QuietHours | None
) -> QuietHours | None:
    if start is None or end is None:
        return default_quiet
    return None if start == end else QuietHours(start, end)


@dataclass(frozen=True)
class _Addresses:
    """Where one customer can be reached, by channel."""

    account: str
    phone: str | None
    email: str | None
    zalo_user_id: str | None

    def of(self, channel: DeliveryChannel) -> str | None:
        return {
            DeliveryChannel.SMS: self.phone,
            DeliveryChannel.EMAIL: self.email,
            DeliveryChannel.WEBHOOK: self.account,
            DeliveryChannel.ZALO: self.zalo_user_id,
        }[channel]


def recipients(
    session: Session, customer_ids: Collection[int], default_quiet: QuietHours | None
) -> list[Recipient]:
    """The customers with somewhere to send to, in one query.

    The chosen channel when the customer has an address for it, else SMS to a phone, else
    e-mail; customers with neither are left out, and so are those who stopped their own
    contact (safety messages included: a STOP means stop).
    """
    rows = session.execute(
        select(
            Customer.id,
            Customer.account,
            Customer.phone,
            Customer.email,
            Customer.language,
            NotificationPreference.channel,
            NotificationPreference.language,
            NotificationPreference.opt_out,
            NotificationPreference.quiet_start,
            NotificationPreference.quiet_end,
            NotificationPreference.zalo_user_id,
        )
        .outerjoin(NotificationPreference, NotificationPreference.customer_id == Customer.id)
        .where(Customer.id.in_(list(customer_ids)), NotificationPreference.stopped_at.is_(None))
        .order_by(Customer.id)
    )
    found: list[Recipient] = []
    for row in rows:
        choices = [row[5]] if row[5] is not None else []
        choices += [DeliveryChannel.SMS, DeliveryChannel.EMAIL]
        addresses = _Addresses(row[1], row[2], row[3], row[10])
        channel = next((c for c in choices if addresses.of(c)), None)
        if channel is None:
            continue
        found.append(
            Recipient(
                customer_id=row[0],
                account=row[1],
                channel=channel,
                address=str(addresses.of(channel)),
                language=row[6] or row[4],
                opt_out=bool(row[7]),
                quiet=_quiet(row[8], row[9], default_quiet),
            )
        )
    return found


def followers(
    session: Session, customer_ids: Collection[int], default_quiet: QuietHours | None
) -> list[Recipient]:
    """The verified, not stopped contacts that follow these customers or their premises:
    one per contact, however many of them it follows (its oldest subscription speaks)."""
    ids = list(customer_ids)
    columns = (
        Subscription.id,
        Subscription.channel,
        Subscription.address,
        Subscription.language,
        Subscription.quiet_start,
        Subscription.quiet_end,
        Customer.id,
        Customer.account,
    )
    active = (Subscription.verified_at.is_not(None), Subscription.stopped_at.is_(None))
    by_account = (
        select(*columns)
        .join(Customer, Customer.id == Subscription.customer_id)
        .where(Customer.id.in_(ids), *active)
    )
    by_premise = (
        select(*columns)
        .join(Customer, Customer.premise_id == Subscription.premise_id)
        .where(Customer.id.in_(ids), *active)
    )
    rows = session.execute(by_account.union_all(by_premise)).all()
    chosen: dict[tuple[DeliveryChannel, str], Recipient] = {}
    for row in sorted(rows, key=lambda r: (r[0], r[6])):
        contact = (DeliveryChannel(row[1]), row[2])
        if contact in chosen:
            continue
        chosen[contact] = Recipient(
            customer_id=row[6],
            account=row[7],
            channel=contact[0],
            address=row[2],
            language=Language(row[3]),
            opt_out=False,
            quiet=_quiet(row[4], row[5], default_quiet),
            subscription_id=row[0],
        )
    return list(chosen.values())


def requester(
    session: Session, service_request_id: int, default_quiet: QuietHours | None
) -> Recipient | None:
    """Who hears of a service request: the phone given with it (SMS), else its e-mail,
    else its customer as their preferences say; in the customer's language when it is on
    one, else the language it came in. None when there is nowhere to send to, or the
    contact said STOP (as a customer's own contact).

    A contact given with the request that is not the customer's own is the requester's:
    its message names no customer, so its unsubscribe link, or its STOP, cannot stop the
    customer's own alerts."""
    row = session.execute(
        select(
            ServiceRequest.phone,
            ServiceRequest.email,
            ServiceRequest.language,
            ServiceRequest.customer_id,
        ).where(ServiceRequest.id == service_request_id)
    ).one_or_none()
    if row is None:
        return None
    phone, email, language, customer_id = row
    given = [(DeliveryChannel.SMS, phone), (DeliveryChannel.EMAIL, email)]
    return _contact(session, customer_id, given, language, default_quiet)


_REPORTED_ON = {
    Channel.SMS: DeliveryChannel.SMS,
    Channel.EMAIL: DeliveryChannel.EMAIL,
    Channel.ZALO: DeliveryChannel.ZALO,
}
"""The channels a report came on that can be answered on the same channel."""


def reporter(
    session: Session, report_id: int, default_quiet: QuietHours | None
) -> Recipient | None:
    """Who hears about a report: the one who filed it, on the channel they used (SMS, an
    e-mail, Zalo); from a page, a call or an agent, the phone given with it, else its
    e-mail, else its customer as their preferences say. STOP and the customer's language
    as for a service request's requester (`requester`)."""
    row = session.execute(
        select(
            Report.channel, Report.phone, Report.email, Report.zalo_user_id, Report.customer_id
        ).where(Report.id == report_id)
    ).one_or_none()
    if row is None:
        return None
    channel, phone, email, zalo_user_id, customer_id = row
    addresses = {
        DeliveryChannel.SMS: phone,
        DeliveryChannel.EMAIL: email,
        DeliveryChannel.ZALO: zalo_user_id,
    }
    same = _REPORTED_ON.get(channel)
    given = [(same, addresses[same])] if same is not None else []
    given += [(DeliveryChannel.SMS, phone), (DeliveryChannel.EMAIL, email)]
    return _contact(session, customer_id, given, DEFAULT_LANGUAGE, default_quiet)


def _contact(
    session: Session,
    customer_id: int | None,
    given: list[tuple[DeliveryChannel, str | None]],
    language: Language,
    default_quiet: QuietHours | None,
) -> Recipient | None:
    """The first contact `given`, else the customer's own; in the customer's language
    when there is one, else `language`. None when there is nowhere to send to, or the
    contact said STOP (as a customer's own contact)."""
    customer = recipients(session, [customer_id], default_quiet) if customer_id else []
    channel, address = next(((c, a) for c, a in given if a), (None, None))
    if channel is None or address is None:
        return customer[0] if customer else None
    found = address.lower() if channel is DeliveryChannel.EMAIL else address
    owners = own_customers(session, channel, found)
    stopped = session.scalar(
        select(func.count()).where(
            NotificationPreference.customer_id.in_(owners),
            NotificationPreference.stopped_at.is_not(None),
        )
    )
    if stopped:  # the address is the own contact of a customer who said STOP
        return None
    own = customer_id in owners
    return Recipient(
        customer_id=customer_id if own else None,
        account=customer[0].account if customer else None,
        channel=channel,
        address=address,
        language=customer[0].language if customer else language,
        opt_out=False,
        quiet=customer[0].quiet if customer else default_quiet,
    )


def own_customers(
    session: Session, channel: DeliveryChannel, address: str, *, customer_id: int | None = None
) -> list[int]:
    """The customers whose own phone, e-mail or Zalo user (on their preferences) the
    contact is."""
    if channel is DeliveryChannel.SMS:
        owner = Customer.phone == address
    elif channel is DeliveryChannel.EMAIL:
        owner = func.lower(Customer.email) == address
    elif channel is DeliveryChannel.ZALO:
        owner = Customer.id.in_(
            select(NotificationPreference.customer_id).where(
                NotificationPreference.zalo_user_id == address
            )
        )
    else:
        return []
    query = select(Customer.id).where(owner)
    if customer_id is not None:
        query = query.where(Customer.id == customer_id)
    return list(session.scalars(query.order_by(Customer.id)))


def _customer_id(session: Session, account: str) -> int:
    customer_id = session.scalar(select(Customer.id).where(Customer.account == account))
    if customer_id is None:
        raise UnknownCustomer(f"no customer with account {account!r}")
    return customer_id


def _out(account: str, row: NotificationPreference | None) -> PreferencesOut:
    if row is None:
        return PreferencesOut(account=account)
    quiet = (
        f"{row.quiet_start:%H:%M}-{row.quiet_end:%H:%M}"
        if row.quiet_start is not None and row.quiet_end is not None
        else None
    )
    return PreferencesOut(
        account=account,
        channel=row.channel,
        language=row.language,
        opt_out=row.opt_out,
        quiet_hours=quiet,
    )


def get_preferences(session: Session, account: str) -> PreferencesOut:
    customer_id = _customer_id(session, account)
    return _out(account, session.get(NotificationPreference, customer_id))


def set_preferences(session: Session, account: str, chosen: PreferencesIn) -> PreferencesOut:
    """Replace the customer's preferences (absent fields: the defaults); without the
    opt-out, a STOP the customer sent is lifted too."""
    customer_id = _customer_id(session, account)
    quiet: tuple[time | None, time | None] = (None, None)
    if chosen.quiet_hours is not None:
        start, end = chosen.quiet_hours.split("-")
        quiet = (time.fromisoformat(start), time.fromisoformat(end))
    values = {
        "channel": chosen.channel,
        "language": chosen.language,
        "opt_out": chosen.opt_out,
        "quiet_start": quiet[0],
        "quiet_end": quiet[1],
    }
    # Staff lifting the opt-out lift the customer's own STOP with it.
    replaced = values if chosen.opt_out else {**values, "stopped_at": None}
    session.execute(
        insert(NotificationPreference)
        .values(customer_id=customer_id, **values)
        .on_conflict_do_update(index_elements=["customer_id"], set_=replaced)
    )
    session.expire_all()
    return _out(account, session.get(NotificationPreference, customer_id))
