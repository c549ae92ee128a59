"""Fault indications from SCADA, and the return-to-normal order drafted after a repair
for the devices a restoration order moved.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-14 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fault_indications",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("device_id", sa.Integer(), sa.ForeignKey("devices.id"), nullable=False),
        sa.Column("fault_passed", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.UniqueConstraint(
            "device_id", "fault_passed", "occurred_at", name="uq_fault_indications_once"
        ),
    )
    op.create_index("ix_fault_indications_device_id", "fault_indications", ["device_id"])
    op.create_index("ix_fault_indications_occurred_at", "fault_indications", ["occurred_at"])
    op.add_column(
        "restoration_orders",
        sa.Column(
            "normal_order_id",
            sa.Integer(),
            sa.ForeignKey("switching_orders.id", ondelete="SET NULL"),
        ),
    )
    op.add_column(
        "restoration_orders",
        sa.Column("normal_considered_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_column("restoration_orders", "normal_considered_at")
    op.drop_column("restoration_orders", "normal_order_id")
    op.drop_index("ix_fault_indications_occurred_at", table_name="fault_indications")
    op.drop_index("ix_fault_indications_device_id", table_name="fault_indications")
    op.drop_table("fault_indications")
