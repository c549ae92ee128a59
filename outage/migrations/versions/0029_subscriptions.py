"""Alert subscriptions: contacts that follow an account or a premise, their codes and
audit trail; messages to them, and every message's unsubscribe token.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-19 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS = (
    "outage_detected",
    "etr_set",
    "etr_changed",
    "crew_on_site",
    "restored",
    "follow_up",
    "planned_notice",
    "planned_reminder",
    "planned_changed",
    "planned_cancelled",
    "reply",
    "request_update",
)
_CHANNELS = ("sms", "email", "webhook", "zalo")
_RECIPIENT_BEFORE = "customer_id IS NOT NULL OR service_request_id IS NOT NULL OR kind = 'reply'"
_RECIPIENT = "num_nonnulls(customer_id, subscription_id, service_request_id) >= 1 OR kind = 'reply'"
_WITHOUT_EVENT_BEFORE = "(kind = 'reply') = (event_id IS NULL)"
_WITHOUT_EVENT = "(kind IN ('reply', 'subscription_code')) = (event_id IS NULL)"


def _values(*values: str) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _kinds(*kinds: str) -> None:
    for table, name in (
        ("notifications", "notification_kind"),
        ("notification_events", "notification_event_kind"),
    ):
        op.drop_constraint(name, table, type_="check")
        op.create_check_constraint(name, table, f"kind IN ({_values(*kinds)})")


def _check(name: str, condition: str) -> None:
    op.drop_constraint(name, "notifications", type_="check")
    op.create_check_constraint(name, "notifications", condition)


def _checked(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", _checked("subscription_channel", *_CHANNELS), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("premise_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("quiet_start", sa.Time(), nullable=True),
        sa.Column("quiet_end", sa.Time(), nullable=True),
        sa.Column(
            "source", _checked("subscription_source", "sms", "web", "agent", "zalo"), nullable=False
        ),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_subscriptions_customer_id"
        ),
        sa.ForeignKeyConstraint(
            ["premise_id"], ["premises.id"], name="fk_subscriptions_premise_id"
        ),
        sa.CheckConstraint(
            "num_nonnulls(customer_id, premise_id) = 1", name="ck_subscriptions_one_target"
        ),
        sa.CheckConstraint("language IN ('vi', 'en')", name="ck_subscriptions_language"),
        sa.CheckConstraint(
            "(quiet_start IS NULL) = (quiet_end IS NULL)", name="ck_subscriptions_quiet_hours"
        ),
        sa.UniqueConstraint("token", name="uq_subscriptions_token"),
    )
    op.create_index(
        "uq_subscriptions_contact_customer",
        "subscriptions",
        ["channel", "address", "customer_id"],
        unique=True,
        postgresql_where="customer_id IS NOT NULL",
    )
    op.create_index(
        "uq_subscriptions_contact_premise",
        "subscriptions",
        ["channel", "address", "premise_id"],
        unique=True,
        postgresql_where="premise_id IS NOT NULL",
    )
    op.create_index("ix_subscriptions_customer_id", "subscriptions", ["customer_id"])
    op.create_index("ix_subscriptions_premise_id", "subscriptions", ["premise_id"])
    op.create_table(
        "subscription_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column(
            "action",
            _checked(
                "subscription_action",
                "created",
                "code_sent",
                "verified",
                "changed",
                "stopped",
                "resumed",
            ),
            nullable=False,
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("via", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscription_events"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name="fk_subscription_events_subscription_id",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_subscription_events_customer_id"
        ),
        sa.CheckConstraint(
            "num_nonnulls(subscription_id, customer_id) = 1",
            name="ck_subscription_events_one_subject",
        ),
    )
    op.create_index(
        "ix_subscription_events_subscription_id", "subscription_events", ["subscription_id"]
    )
    op.create_index("ix_subscription_events_customer_id", "subscription_events", ["customer_id"])
    op.create_table(
        "subscription_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("handle", sa.String(32), nullable=False),
        sa.Column("channel", _checked("subscription_code_channel", *_CHANNELS), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_subscription_codes"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name="fk_subscription_codes_subscription_id",
        ),
        sa.CheckConstraint("tries >= 0", name="ck_subscription_codes_tries"),
        sa.UniqueConstraint("handle", name="uq_subscription_codes_handle"),
    )
    op.create_index("ix_subscription_codes_created_at", "subscription_codes", ["created_at"])
    op.create_index(
        "ix_subscription_codes_subscription_id", "subscription_codes", ["subscription_id"]
    )
    op.create_index(
        "ix_subscription_codes_contact", "subscription_codes", ["channel", "address", "created_at"]
    )
    _kinds(*_KINDS, "subscription_code")
    op.add_column("notifications", sa.Column("subscription_id", sa.Integer(), nullable=True))
    op.add_column("notifications", sa.Column("stop_token", sa.String(64), nullable=True))
    op.create_foreign_key(
        "fk_notifications_subscription_id",
        "notifications",
        "subscriptions",
        ["subscription_id"],
        ["id"],
    )
    op.create_unique_constraint("uq_notifications_stop_token", "notifications", ["stop_token"])
    _check("ck_notifications_recipient", _RECIPIENT)
    _check("ck_notifications_reply_has_no_event", _WITHOUT_EVENT)
    op.create_index("ix_notifications_subscription_id", "notifications", ["subscription_id"])
    op.add_column(
        "notification_preferences",
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("notification_preferences", "stopped_at")
    op.execute(
        "DELETE FROM notifications WHERE subscription_id IS NOT NULL OR kind = 'subscription_code'"
    )
    op.drop_index("ix_notifications_subscription_id", table_name="notifications")
    _check("ck_notifications_recipient", _RECIPIENT_BEFORE)
    _check("ck_notifications_reply_has_no_event", _WITHOUT_EVENT_BEFORE)
    op.drop_constraint("uq_notifications_stop_token", "notifications", type_="unique")
    op.drop_constraint("fk_notifications_subscription_id", "notifications", type_="foreignkey")
    op.drop_column("notifications", "stop_token")
    op.drop_column("notifications", "subscription_id")
    _kinds(*_KINDS)
    op.drop_table("subscription_codes")
    op.drop_table("subscription_events")
    op.drop_table("subscriptions")
