"""Reports, meter events and messages carry the substation they belong to (`substation_id`,
0 for none), set once when written: a region's engine reads its reports and meter events
by it through an index, and it is the key Citus distributes these tables by
(`docs/scale-out.md`).

Existing rows are given the substation of their place as it is now. A message already
sealed into its chain is not changed: the key is left out of the seal, and it stays NULL
on those rows. Since a key never changes, imports record the keys they move premises and
customers between (`substation_moves`), so a region also reads the keys its premises
came from.

Revision ID: 0044
Revises: 0042
Create Date: 2026-12-07 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0044"
down_revision: str | None = "0042"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "status IN ('pending', 'sending')"

_OF_PREMISE = (
    "(SELECT f.substation_id FROM premises p JOIN feeders f ON f.id = p.feeder_id"
    " WHERE p.id = {premise})"
)
"""The substation of a premise's feeder, NULL when it has none."""


def upgrade() -> None:
    op.create_table(
        "substation_moves",
        sa.Column("from_substation", sa.Integer(), nullable=False),
        sa.Column("to_substation", sa.Integer(), nullable=False),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("from_substation", "to_substation"),
    )
    for table in ("reports", "meter_events", "notifications"):
        op.add_column(table, sa.Column("substation_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE reports AS r SET substation_id = COALESCE("
        f"{_OF_PREMISE.format(premise='r.premise_id')},"
        " (SELECT f.substation_id FROM feeders f WHERE f.id = r.feeder_id), 0)"
    )
    op.execute(
        "UPDATE meter_events AS m SET substation_id = COALESCE("
        f"{_OF_PREMISE.format(premise='m.premise_id')}, 0)"
    )
    op.execute(
        "UPDATE notifications AS n SET substation_id = COALESCE("
        "(SELECT f.substation_id FROM customers c JOIN premises p ON p.id = c.premise_id"
        " JOIN feeders f ON f.id = p.feeder_id WHERE c.id = n.customer_id),"
        " (SELECT r.substation_id FROM reports r WHERE r.id = n.report_id), 0)"
        " WHERE n.chain_seq IS NULL"
    )
    for table in ("reports", "meter_events"):
        op.alter_column(table, "substation_id", nullable=False)
    op.create_index("ix_reports_substation_received", "reports", ["substation_id", "received_at"])
    op.create_index(
        "ix_meter_events_substation_time", "meter_events", ["substation_id", "occurred_at"]
    )
    op.create_index(
        "ix_meter_events_substation_received", "meter_events", ["substation_id", "received_at"]
    )
    op.create_index(
        "ix_notifications_substation_due",
        "notifications",
        ["substation_id", "next_attempt_at"],
        postgresql_where=sa.text(_OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_substation_due", table_name="notifications")
    op.drop_index("ix_meter_events_substation_received", table_name="meter_events")
    op.drop_index("ix_meter_events_substation_time", table_name="meter_events")
    op.drop_index("ix_reports_substation_received", table_name="reports")
    for table in ("notifications", "meter_events", "reports"):
        op.drop_column(table, "substation_id")
    op.drop_table("substation_moves")
