"""The live network: a switching log, a live state version per device, and the network's
versions, which every process compares with the copy it holds.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCES = ("scada", "order", "crew", "dispatcher")


def _source(name: str) -> sa.Enum:
    return sa.Enum(*SOURCES, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    op.add_column(
        "devices", sa.Column("state_version", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.add_column("devices", sa.Column("state_source", _source("device_state_source")))
    op.create_index("ix_devices_state_version", "devices", ["state_version"])
    op.create_table(
        "switch_operations",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("device_id", sa.Integer(), sa.ForeignKey("devices.id"), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("source", _source("switch_source"), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("version", sa.BigInteger()),
    )
    op.create_index(
        "ix_switch_operations_device_time", "switch_operations", ["device_id", "occurred_at"]
    )
    op.create_table(
        "grid_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("switch_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("structure_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint("id = 1", name="ck_grid_state_one_row"),
    )
    op.execute("INSERT INTO grid_state (id) VALUES (1)")


def downgrade() -> None:
    op.drop_table("grid_state")
    op.drop_index("ix_switch_operations_device_time", table_name="switch_operations")
    op.drop_table("switch_operations")
    op.drop_index("ix_devices_state_version", table_name="devices")
    op.drop_column("devices", "state_source")
    op.drop_column("devices", "state_version")
