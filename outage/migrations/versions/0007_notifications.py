"""Notifications: the outbox of events, messages with their delivery state, customers'
preferences, and planned outages.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status IN ('pending', 'sending')")
"""Predicate of the index of messages still to send (as in the model, frozen here)."""
UNEXPANDED = sa.text("expanded_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "planned_outages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "scheduled",
                "cancelled",
                "done",
                name="planned_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("notice_queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminder_queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ends_at > starts_at", name="ck_planned_outages_window"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name="fk_planned_outages_device_id"),
        sa.PrimaryKeyConstraint("id", name="pk_planned_outages"),
    )
    op.create_index(
        "ix_planned_outages_status_starts_at",
        "planned_outages",
        ["status", "starts_at"],
        unique=False,
    )
    op.create_table(
        "notification_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
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
                name="notification_event_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("planned_outage_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("premise_id", sa.Integer(), nullable=True),
        sa.Column("safety", sa.Boolean(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expanded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "num_nonnulls(incident_id, planned_outage_id) = 1",
            name="ck_notification_events_one_subject",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name="fk_notification_events_device_id"
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_notification_events_incident_id"
        ),
        sa.ForeignKeyConstraint(
            ["planned_outage_id"],
            ["planned_outages.id"],
            name="fk_notification_events_planned_outage_id",
        ),
        sa.ForeignKeyConstraint(
            ["premise_id"], ["premises.id"], name="fk_notification_events_premise_id"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notification_events"),
    )
    op.create_index(
        "ix_notification_events_incident_id", "notification_events", ["incident_id"], unique=False
    )
    op.create_index(
        "ix_notification_events_unexpanded",
        "notification_events",
        ["id"],
        unique=False,
        postgresql_where=UNEXPANDED,
    )
    op.create_table(
        "notification_preferences",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "sms",
                "email",
                "webhook",
                name="notification_preference_channel",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("opt_out", sa.Boolean(), nullable=False),
        sa.Column("quiet_start", sa.Time(), nullable=True),
        sa.Column("quiet_end", sa.Time(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("language IN ('vi', 'en')", name="ck_notification_preferences_language"),
        sa.CheckConstraint(
            "(quiet_start IS NULL) = (quiet_end IS NULL)",
            name="ck_notification_preferences_quiet_hours",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_notification_preferences_customer_id"
        ),
        sa.PrimaryKeyConstraint("customer_id", name="pk_notification_preferences"),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("planned_outage_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
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
                name="notification_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "channel",
            sa.Enum(
                "sms",
                "email",
                "webhook",
                name="notification_channel",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("safety", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "dead",
                "skipped",
                name="notification_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery_key", sa.String(length=200), nullable=False),
        sa.Column("reply_token", sa.String(length=64), nullable=True),
        sa.Column(
            "reply",
            sa.Enum(
                "still_out",
                "restored",
                name="notification_reply",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reply_report_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(status = 'sent') = (sent_at IS NOT NULL)", name="ck_notifications_sent"
        ),
        sa.CheckConstraint("language IN ('vi', 'en')", name="ck_notifications_language"),
        sa.CheckConstraint("attempts >= 0", name="ck_notifications_attempts"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_notifications_customer_id"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["notification_events.id"], name="fk_notifications_event_id"
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_notifications_incident_id"
        ),
        sa.ForeignKeyConstraint(
            ["planned_outage_id"], ["planned_outages.id"], name="fk_notifications_planned_outage_id"
        ),
        sa.ForeignKeyConstraint(
            ["reply_report_id"], ["reports.id"], name="fk_notifications_reply_report_id"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.UniqueConstraint("delivery_key", name="uq_notifications_delivery_key"),
        sa.UniqueConstraint("reply_token", name="uq_notifications_reply_token"),
    )
    op.create_index(
        "ix_notifications_customer_id_created_at",
        "notifications",
        ["customer_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_notifications_due",
        "notifications",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=OPEN,
    )
    op.create_index(
        "ix_notifications_incident_id_kind", "notifications", ["incident_id", "kind"], unique=False
    )
    op.create_index(
        "ix_notifications_planned_outage_id", "notifications", ["planned_outage_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_planned_outage_id", table_name="notifications")
    op.drop_index("ix_notifications_incident_id_kind", table_name="notifications")
    op.drop_index("ix_notifications_due", table_name="notifications", postgresql_where=OPEN)
    op.drop_index("ix_notifications_customer_id_created_at", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("notification_preferences")
    op.drop_index(
        "ix_notification_events_unexpanded",
        table_name="notification_events",
        postgresql_where=UNEXPANDED,
    )
    op.drop_index("ix_notification_events_incident_id", table_name="notification_events")
    op.drop_table("notification_events")
    op.drop_index("ix_planned_outages_status_starts_at", table_name="planned_outages")
    op.drop_table("planned_outages")
