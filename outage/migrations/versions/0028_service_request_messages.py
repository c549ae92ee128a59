"""A service request's customer is told of every change of its state, through the outbox:
events and messages may be about a request (whose requester need not be a customer on
record; its customer column may be empty since the Zalo replies), and a request keeps
the language it came in.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-19 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
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
)
NEW_KIND = "request_update"


def _kinds(table: str, name: str, kinds: Sequence[str]) -> None:
    op.drop_constraint(name, table, type_="check")
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    op.create_check_constraint(name, table, f"kind IN ({listed})")


def upgrade() -> None:
    op.add_column(
        "service_requests",
        sa.Column("language", sa.String(2), nullable=False, server_default="vi"),
    )
    op.create_check_constraint(
        "ck_service_requests_language", "service_requests", "language IN ('vi', 'en')"
    )
    for table in ("notification_events", "notifications"):
        op.add_column(
            table,
            sa.Column(
                "service_request_id",
                sa.BigInteger(),
                sa.ForeignKey("service_requests.id", name=f"fk_{table}_service_request_id"),
            ),
        )
        op.create_index(f"ix_{table}_service_request_id", table, ["service_request_id"])
    _kinds("notification_events", "notification_event_kind", (*KINDS, NEW_KIND))
    _kinds("notifications", "notification_kind", (*KINDS, NEW_KIND))
    op.drop_constraint("ck_notification_events_one_subject", "notification_events")
    op.create_check_constraint(
        "ck_notification_events_one_subject",
        "notification_events",
        "num_nonnulls(incident_id, planned_outage_id, service_request_id) = 1",
    )
    op.create_check_constraint(
        "ck_notifications_recipient",
        "notifications",
        "customer_id IS NOT NULL OR service_request_id IS NOT NULL OR kind = 'reply'",
    )


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE service_request_id IS NOT NULL")
    op.execute("DELETE FROM notification_events WHERE service_request_id IS NOT NULL")
    op.drop_constraint("ck_notifications_recipient", "notifications")
    op.drop_constraint("ck_notification_events_one_subject", "notification_events")
    op.create_check_constraint(
        "ck_notification_events_one_subject",
        "notification_events",
        "num_nonnulls(incident_id, planned_outage_id) = 1",
    )
    _kinds("notifications", "notification_kind", KINDS)
    _kinds("notification_events", "notification_event_kind", KINDS)
    for table in ("notifications", "notification_events"):
        op.drop_index(f"ix_{table}_service_request_id", table)
        op.drop_column(table, "service_request_id")
    op.drop_constraint("ck_service_requests_language", "service_requests")
    op.drop_column("service_requests", "language")
