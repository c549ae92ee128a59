"""Restoration by switching: what the planner needs of the network (remote-controlled
devices, premises' demand) and the orders drafted from its plans.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-11 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "devices",
        sa.Column("remote_controlled", sa.Boolean(), nullable=False, server_default="false"),
    )
    op.add_column("premises", sa.Column("load_kw", sa.Float()))
    op.add_column("premises", sa.Column("load_kvar", sa.Float()))
    op.create_table(
        "restoration_orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column(
            "order_id",
            sa.Integer(),
            sa.ForeignKey("switching_orders.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("structure_version", sa.BigInteger(), nullable=False),
        sa.Column("switch_version", sa.BigInteger(), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.UniqueConstraint(
            "incident_id",
            "structure_version",
            "switch_version",
            "rank",
            name="uq_restoration_orders_plan",
        ),
        sa.CheckConstraint("rank >= 1", name="ck_restoration_orders_rank"),
    )
    op.create_index("ix_restoration_orders_incident_id", "restoration_orders", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_restoration_orders_incident_id", table_name="restoration_orders")
    op.drop_table("restoration_orders")
    op.drop_column("premises", "load_kvar")
    op.drop_column("premises", "load_kw")
    op.drop_column("devices", "remote_controlled")
