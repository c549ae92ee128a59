"""The Zalo Official Account channel: reports from Zalo users, the events acted on once,
replies as messages without an event, and Zalo as a delivery channel.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-19 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REPORT_CHANNELS = ("web", "sms", "email", "ivr", "agent", "open311", "api")
_DELIVERY_CHANNELS = ("sms", "email", "webhook")
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
)
_CHECKS = (
    ("reports", "report_channel", "channel", _REPORT_CHANNELS, "zalo"),
    ("notifications", "notification_channel", "channel", _DELIVERY_CHANNELS, "zalo"),
    (
        "notification_preferences",
        "notification_preference_channel",
        "channel",
        _DELIVERY_CHANNELS,
        "zalo",
    ),
    ("notifications", "notification_kind", "kind", _KINDS, "reply"),
    ("notification_events", "notification_event_kind", "kind", _KINDS, "reply"),
)


def _checks(*, widened: bool) -> None:
    """Replace the CHECKs of the enum columns (stored as text) that take a new value."""
    for table, name, column, values, new in _CHECKS:
        taken = ", ".join(f"'{v}'" for v in ((*values, new) if widened else values))
        op.drop_constraint(name, table, type_="check")
        op.create_check_constraint(name, table, f"{column} IN ({taken})")


def upgrade() -> None:
    _checks(widened=True)
    op.add_column("reports", sa.Column("zalo_user_id", sa.String(length=64)))
    op.create_index(
        "ix_reports_zalo_user_received",
        "reports",
        ["zalo_user_id", "received_at"],
        postgresql_where="zalo_user_id IS NOT NULL",
    )
    op.create_table(
        "zalo_events",
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("event_name", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("report_id", sa.BigInteger(), nullable=True),
        sa.Column("image_url", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"], name="fk_zalo_events_report_id"),
        sa.PrimaryKeyConstraint("event_key"),
    )
    op.create_index("ix_zalo_events_report_id", "zalo_events", ["report_id"])
    op.add_column("notification_preferences", sa.Column("zalo_user_id", sa.String(length=64)))
    op.alter_column("notifications", "event_id", nullable=True)
    op.alter_column("notifications", "customer_id", nullable=True)
    op.create_check_constraint(
        "ck_notifications_reply_has_no_event",
        "notifications",
        "(kind = 'reply') = (event_id IS NULL)",
    )


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE kind = 'reply' OR channel = 'zalo'")
    op.drop_constraint("ck_notifications_reply_has_no_event", "notifications", type_="check")
    op.alter_column("notifications", "customer_id", nullable=False)
    op.alter_column("notifications", "event_id", nullable=False)
    op.execute("UPDATE notification_preferences SET channel = NULL WHERE channel = 'zalo'")
    op.drop_column("notification_preferences", "zalo_user_id")
    op.drop_index("ix_zalo_events_report_id", table_name="zalo_events")
    op.drop_table("zalo_events")
    op.drop_index("ix_reports_zalo_user_received", table_name="reports")
    op.drop_column("reports", "zalo_user_id")
    op.execute("UPDATE reports SET channel = 'api' WHERE channel = 'zalo'")
    _checks(widened=False)
