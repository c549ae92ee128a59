"""Tables of notifications: the messages the outbox's events fan out to, customers'
preferences, the contacts that subscribe to alerts, and planned outages."""

from datetime import datetime, time
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from outage import clock
from outage.chained import Chained, chain_table_args
from outage.db import Base, LanguageCode, checked_enum
from outage.grid.regions import UNPLACED
from outage.i18n import Language
from outage.notifications.enums import (
    DeliveryChannel,
    DeliveryStatus,
    PlannedStatus,
    Reply,
    SubscriptionAction,
    SubscriptionSource,
)
from outage.outbox.enums import EventKind

OPEN_SQL = "status IN ('pending', 'sending')"
"""Messages a worker may still take (a `sending` one once its lease ran out)."""


class NotificationPreference(Base):
    """How a customer wants to hear from us; without a row, the defaults hold."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        PrimaryKeyConstraint("customer_id", name="pk_notification_preferences"),
        ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_notification_preferences_customer_id"
        ),
        CheckConstraint("language IN ('vi', 'en')", name="ck_notification_preferences_language"),
        CheckConstraint(
            "(quiet_start IS NULL) = (quiet_end IS NULL)",
            name="ck_notification_preferences_quiet_hours",
        ),
    )

    customer_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[DeliveryChannel | None] = mapped_column(
        checked_enum(DeliveryChannel, "notification_preference_channel")
    )
    """None: SMS when the customer has a phone, else e-mail."""
    zalo_user_id: Mapped[str | None] = mapped_column(String(64))
    """The customer's Zalo user id for the Official Account: where `zalo` messages go."""
    language: Mapped[Language | None] = mapped_column(LanguageCode)
    """None: the customer's language."""
    opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    """No messages but safety ones (staff set it for the customer)."""
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """The opt-out is the customer's own (an SMS STOP, the unsubscribe link): no messages
    at all, safety ones included, until they subscribe again or staff lift the opt-out."""
    quiet_start: Mapped[time | None] = mapped_column(Time)
    """None: the default quiet hours; equal start and end: none at all."""
    quiet_end: Mapped[time | None] = mapped_column(Time)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Subscription(Base):
    """A contact (a channel and an address there) that follows a customer's account or a
    premise, besides the customer's own contact: several per account, one per contact
    and target. Only a verified, not stopped one is told; `token` is its secret, which
    lets the subscriber change or stop it from the web."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_subscriptions"),
        ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_subscriptions_customer_id"
        ),
        ForeignKeyConstraint(["premise_id"], ["premises.id"], name="fk_subscriptions_premise_id"),
        CheckConstraint(
            "num_nonnulls(customer_id, premise_id) = 1", name="ck_subscriptions_one_target"
        ),
        CheckConstraint("language IN ('vi', 'en')", name="ck_subscriptions_language"),
        CheckConstraint(
            "(quiet_start IS NULL) = (quiet_end IS NULL)", name="ck_subscriptions_quiet_hours"
        ),
        UniqueConstraint("token", name="uq_subscriptions_token"),
        Index(
            "uq_subscriptions_contact_customer",
            "channel",
            "address",
            "customer_id",
            unique=True,
            postgresql_where=text("customer_id IS NOT NULL"),
        ),
        Index(
            "uq_subscriptions_contact_premise",
            "channel",
            "address",
            "premise_id",
            unique=True,
            postgresql_where=text("premise_id IS NOT NULL"),
        ),
        Index("ix_subscriptions_customer_id", "customer_id"),
        Index("ix_subscriptions_premise_id", "premise_id"),
    )

    id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[DeliveryChannel] = mapped_column(
        checked_enum(DeliveryChannel, "subscription_channel")
    )
    address: Mapped[str] = mapped_column(Text)
    """A phone in E.164, an e-mail address in lower case, or the channel's own user id."""
    customer_id: Mapped[int | None] = mapped_column(Integer)
    premise_id: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[Language] = mapped_column(LanguageCode)
    quiet_start: Mapped[time | None] = mapped_column(Time)
    """None: the default quiet hours; equal start and end: none at all."""
    quiet_end: Mapped[time | None] = mapped_column(Time)
    source: Mapped[SubscriptionSource] = mapped_column(
        checked_enum(SubscriptionSource, "subscription_source")
    )
    token: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class SubscriptionEvent(Base):
    """The audit trail of subscriptions and of customers' own contacts: who changed what,
    when. `actor` is the staff user's name, or `contact` for the subscriber, with `via`
    the channel they used."""

    __tablename__ = "subscription_events"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_subscription_events"),
        ForeignKeyConstraint(
            ["subscription_id"], ["subscriptions.id"], name="fk_subscription_events_subscription_id"
        ),
        ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_subscription_events_customer_id"
        ),
        CheckConstraint(
            "num_nonnulls(subscription_id, customer_id) = 1",
            name="ck_subscription_events_one_subject",
        ),
        Index("ix_subscription_events_subscription_id", "subscription_id"),
        Index("ix_subscription_events_customer_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger)
    subscription_id: Mapped[int | None] = mapped_column(Integer)
    customer_id: Mapped[int | None] = mapped_column(Integer)
    """A change of the customer's own contact (an SMS STOP from it)."""
    action: Mapped[SubscriptionAction] = mapped_column(
        checked_enum(SubscriptionAction, "subscription_action")
    )
    actor: Mapped[str] = mapped_column(Text)
    via: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SubscriptionCode(Base):
    """A one-time code sent to a new contact, stored hashed; `tries` counts wrong answers."""

    __tablename__ = "subscription_codes"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_subscription_codes"),
        ForeignKeyConstraint(
            ["subscription_id"], ["subscriptions.id"], name="fk_subscription_codes_subscription_id"
        ),
        CheckConstraint("tries >= 0", name="ck_subscription_codes_tries"),
        UniqueConstraint("handle", name="uq_subscription_codes_handle"),
        Index("ix_subscription_codes_subscription_id", "subscription_id"),
        Index("ix_subscription_codes_created_at", "created_at"),
        Index("ix_subscription_codes_contact", "channel", "address", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer)
    subscription_id: Mapped[int] = mapped_column(Integer)
    handle: Mapped[str] = mapped_column(String(32))
    """The random name the asker gives the code back under: a subscription's id would
    tell whether the contact followed the account already, and could be counted through."""
    channel: Mapped[DeliveryChannel] = mapped_column(
        checked_enum(DeliveryChannel, "subscription_code_channel")
    )
    address: Mapped[str] = mapped_column(Text)
    """The contact, so its codes per hour are counted whatever it subscribes to."""
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    tries: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PlannedOutage(Base):
    """Maintenance on a device in a time window: its downstream customers are told ahead."""

    __tablename__ = "planned_outages"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_planned_outages"),
        ForeignKeyConstraint(["device_id"], ["devices.id"], name="fk_planned_outages_device_id"),
        CheckConstraint("ends_at > starts_at", name="ck_planned_outages_window"),
        Index("ix_planned_outages_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer)
    device_id: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[PlannedStatus] = mapped_column(checked_enum(PlannedStatus, "planned_status"))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    """Counts changes of the window: each change is told once."""
    customers: Mapped[int] = mapped_column(Integer)
    """Customers downstream of the device when it was scheduled."""
    notice_queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminder_queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Notification(Chained, Base):
    """One message to one customer's contact or one subscribed contact, and how its
    delivery went.

    `delivery_key` is unique: at most one message per contact, subject and kind (and ETR
    change), however often an event is fanned out or a send is retried. The gateway gets
    it as an idempotency key. A reply to a customer's own message on Zalo is a row of its
    own, kind `reply`, with no event (`outage.notifications.replies`). `address` is
    personal data: never in a public answer. `stop_token` is the secret of the message's
    unsubscribe link. Once sent, what was said, to whom and when is sealed into a chain
    (`outage.ledger`).
    """

    __tablename__ = "notifications"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_notifications"),
        ForeignKeyConstraint(
            ["event_id"], ["notification_events.id"], name="fk_notifications_event_id"
        ),
        ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_notifications_customer_id"
        ),
        ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_notifications_incident_id"
        ),
        ForeignKeyConstraint(
            ["planned_outage_id"],
            ["planned_outages.id"],
            name="fk_notifications_planned_outage_id",
        ),
        ForeignKeyConstraint(
            ["reply_report_id"], ["reports.id"], name="fk_notifications_reply_report_id"
        ),
        ForeignKeyConstraint(
            ["subscription_id"], ["subscriptions.id"], name="fk_notifications_subscription_id"
        ),
        ForeignKeyConstraint(
            ["service_request_id"],
            ["service_requests.id"],
            name="fk_notifications_service_request_id",
        ),
        ForeignKeyConstraint(["report_id"], ["reports.id"], name="fk_notifications_report_id"),
        UniqueConstraint("delivery_key", name="uq_notifications_delivery_key"),
        UniqueConstraint("reply_token", name="uq_notifications_reply_token"),
        UniqueConstraint("stop_token", name="uq_notifications_stop_token"),
        CheckConstraint("language IN ('vi', 'en')", name="ck_notifications_language"),
        CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name="ck_notifications_sent"),
        CheckConstraint("attempts >= 0", name="ck_notifications_attempts"),
        CheckConstraint(
            "(kind IN ('reply', 'subscription_code')) = (event_id IS NULL)",
            name="ck_notifications_reply_has_no_event",
        ),
        CheckConstraint(
            "num_nonnulls(customer_id, subscription_id, service_request_id, report_id) >= 1"
            " OR kind = 'reply'",
            name="ck_notifications_recipient",
        ),
        Index("ix_notifications_due", "next_attempt_at", postgresql_where=text(OPEN_SQL)),
        Index(
            "ix_notifications_substation_due",
            "substation_id",
            "next_attempt_at",
            postgresql_where=text(OPEN_SQL),
        ),
        Index(
            "ix_notifications_dead_updated_at",
            "updated_at",
            postgresql_where=text("status = 'dead'"),
        ),
        Index("ix_notifications_customer_id_created_at", "customer_id", "created_at"),
        Index("ix_notifications_incident_id_kind", "incident_id", "kind"),
        Index("ix_notifications_planned_outage_id", "planned_outage_id"),
        Index("ix_notifications_subscription_id", "subscription_id"),
        Index("ix_notifications_service_request_id", "service_request_id"),
        Index("ix_notifications_report_id", "report_id"),
        *chain_table_args("notifications", "status = 'sent'"),
    )

    id: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[int | None] = mapped_column(BigInteger)
    """The outbox event it was fanned out from; None for a reply (kind `reply`) and for a
    subscription's code, written without an event."""
    customer_id: Mapped[int | None] = mapped_column(Integer)
    """The customer the message is about; None for a reply to someone we cannot tie to a
    customer, a code to a premise's follower, or a service request's requester who is no
    customer on record."""
    subscription_id: Mapped[int | None] = mapped_column(Integer)
    """The subscription it went to; None: the customer's own contact."""
    incident_id: Mapped[int | None] = mapped_column(Integer)
    planned_outage_id: Mapped[int | None] = mapped_column(Integer)
    service_request_id: Mapped[int | None] = mapped_column(BigInteger)
    report_id: Mapped[int | None] = mapped_column(BigInteger)
    """The report the message answers (its sender need not be a customer's own contact)."""
    substation_id: Mapped[int] = mapped_column(Integer, default=UNPLACED)
    """The substation of the customer it is about (of the report it answers; else
    `UNPLACED`), set when written: the distribution key under Citus. `UNPLACED` also on
    messages written before the key existed (left out of the seal: where a row is stored
    says nothing of what was said)."""
    kind: Mapped[EventKind] = mapped_column(checked_enum(EventKind, "notification_kind"))
    channel: Mapped[DeliveryChannel] = mapped_column(
        checked_enum(DeliveryChannel, "notification_channel")
    )
    address: Mapped[str] = mapped_column(Text)
    language: Mapped[Language] = mapped_column(LanguageCode)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    safety: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[DeliveryStatus] = mapped_column(
        checked_enum(DeliveryStatus, "notification_status")
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """When it may first go: after quiet hours, or after the last ETR change message."""
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """When a worker may take it: due, retry after a failure, or a claim's lease expiry."""
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivery_key: Mapped[str] = mapped_column(String(200))
    reply_token: Mapped[str | None] = mapped_column(String(64))
    """The secret in a follow-up's link."""
    stop_token: Mapped[str | None] = mapped_column(String(64))
    reply: Mapped[Reply | None] = mapped_column(checked_enum(Reply, "notification_reply"))
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reply_report_id: Mapped[int | None] = mapped_column(BigInteger)
    """The report a "still out" answer filed."""
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
