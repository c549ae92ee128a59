"""Switching orders and their steps.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    op.create_table(
        "switching_orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column(
            "state",
            _enum(
                "switching_order_state",
                "draft",
                "approved",
                "in_progress",
                "completed",
                "aborted",
            ),
            nullable=False,
        ),
        sa.Column("allow_loops", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("approved_by", sa.String(200)),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("finished_by", sa.String(200)),
        sa.Column("planned_start", sa.DateTime(timezone=True)),
        sa.Column("planned_end", sa.DateTime(timezone=True)),
        sa.Column(
            "incident_id",
            sa.Integer(),
            sa.ForeignKey("incidents.id", name="fk_switching_orders_incident_id"),
        ),
        sa.Column(
            "crew_id", sa.Integer(), sa.ForeignKey("crews.id", name="fk_switching_orders_crew_id")
        ),
        sa.Column("checked", JSONB(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "planned_end IS NULL OR planned_end > planned_start", name="ck_switching_orders_window"
        ),
        sa.CheckConstraint(
            "(planned_start IS NULL) = (planned_end IS NULL)",
            name="ck_switching_orders_window_both",
        ),
    )
    op.create_index("ix_switching_orders_state", "switching_orders", ["state"])
    op.create_index("ix_switching_orders_incident_id", "switching_orders", ["incident_id"])
    op.create_index("ix_switching_orders_crew_id", "switching_orders", ["crew_id"])
    op.create_table(
        "switching_steps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "order_id",
            sa.Integer(),
            sa.ForeignKey("switching_orders.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "action",
            _enum("switching_step_action", "open", "close", "verify", "tag"),
            nullable=False,
        ),
        sa.Column("device_id", sa.Integer(), sa.ForeignKey("devices.id"), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column(
            "state",
            _enum("switching_step_state", "pending", "commanded", "done"),
            nullable=False,
        ),
        sa.Column("commanded_at", sa.DateTime(timezone=True)),
        sa.Column("executed_at", sa.DateTime(timezone=True)),
        sa.Column("executed_by", sa.String(200)),
        sa.Column("planned_outage_id", sa.Integer(), sa.ForeignKey("planned_outages.id")),
        sa.UniqueConstraint("order_id", "position", name="uq_switching_steps_position"),
        sa.CheckConstraint("position >= 1", name="ck_switching_steps_position"),
        sa.CheckConstraint(
            "(state = 'done') = (executed_at IS NOT NULL)", name="ck_switching_steps_executed"
        ),
    )
    op.create_index("ix_switching_steps_device_id", "switching_steps", ["device_id"])


def downgrade() -> None:
    op.drop_index("ix_switching_steps_device_id", table_name="switching_steps")
    op.drop_table("switching_steps")
    op.drop_index("ix_switching_orders_crew_id", table_name="switching_orders")
    op.drop_index("ix_switching_orders_incident_id", table_name="switching_orders")
    op.drop_index("ix_switching_orders_state", table_name="switching_orders")
    op.drop_table("switching_orders")
