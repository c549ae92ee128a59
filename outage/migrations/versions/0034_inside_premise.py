"""A lone caller whose meter has power: their report closes as "inside the premise", and
they are told so through the outbox, in an event and a message about the report.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-23 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
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
    "subscription_code",
)
NEW_KIND = "inside_premise"
_SUBJECT_BEFORE = "num_nonnulls(incident_id, planned_outage_id, service_request_id) = 1"
_SUBJECT = "num_nonnulls(incident_id, planned_outage_id, service_request_id, report_id) = 1"
_RECIPIENT_BEFORE = (
    "num_nonnulls(customer_id, subscription_id, service_request_id) >= 1 OR kind = 'reply'"
)
_RECIPIENT = (
    "num_nonnulls(customer_id, subscription_id, service_request_id, report_id) >= 1"
    " OR kind = 'reply'"
)


def _kinds(*kinds: str) -> None:
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    for table, name in (
        ("notifications", "notification_kind"),
        ("notification_events", "notification_event_kind"),
    ):
        op.drop_constraint(name, table, type_="check")
        op.create_check_constraint(name, table, f"kind IN ({listed})")


def _check(table: str, name: str, condition: str) -> None:
    op.drop_constraint(name, table, type_="check")
    op.create_check_constraint(name, table, condition)


def upgrade() -> None:
    op.add_column(
        "reports",
        sa.Column(
            "outcome",
            sa.Enum(
                "inside_premise",
                name="report_outcome",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
    )
    for table in ("notification_events", "notifications"):
        op.add_column(
            table,
            sa.Column(
                "report_id",
                sa.BigInteger(),
                sa.ForeignKey("reports.id", name=f"fk_{table}_report_id"),
            ),
        )
    op.create_index(
        "ix_notification_events_report_id", "notification_events", ["report_id"], unique=True
    )
    op.create_index("ix_notifications_report_id", "notifications", ["report_id"])
    _kinds(*_KINDS, NEW_KIND)
    _check("notification_events", "ck_notification_events_one_subject", _SUBJECT)
    _check("notifications", "ck_notifications_recipient", _RECIPIENT)


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE report_id IS NOT NULL")
    op.execute("DELETE FROM notification_events WHERE report_id IS NOT NULL")
    _check("notifications", "ck_notifications_recipient", _RECIPIENT_BEFORE)
    _check("notification_events", "ck_notification_events_one_subject", _SUBJECT_BEFORE)
    _kinds(*_KINDS)
    op.drop_index("ix_notifications_report_id", "notifications")
    op.drop_index("ix_notification_events_report_id", "notification_events")
    for table in ("notifications", "notification_events"):
        op.drop_column(table, "report_id")
    op.drop_column("reports", "outcome")
