"""Switching orders held on a step SCADA never confirmed, and verify steps that name the
state they expect.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-12 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ORDER_STATES = ("draft", "approved", "in_progress", "completed", "aborted")
_STEP_STATES = ("pending", "commanded", "done")


def _values(*values: str) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _states(order_states: Sequence[str], step_states: Sequence[str]) -> None:
    """Replace the CHECKs of the two state columns (stored as text)."""
    for table, name, values in (
        ("switching_orders", "switching_order_state", order_states),
        ("switching_steps", "switching_step_state", step_states),
    ):
        op.drop_constraint(name, table, type_="check")
        op.create_check_constraint(name, table, f"state IN ({_values(*values)})")


def upgrade() -> None:
    _states((*_ORDER_STATES, "held"), (*_STEP_STATES, "failed"))
    op.add_column("switching_steps", sa.Column("expect_open", sa.Boolean()))
    op.add_column(
        "switching_steps",
        sa.Column("commands", sa.Integer(), nullable=False, server_default="0"),
    )
    op.alter_column("switching_steps", "commands", server_default=None)
    op.execute("UPDATE switching_steps SET commands = 1 WHERE commanded_at IS NOT NULL")
    op.add_column("switching_steps", sa.Column("failed_at", sa.DateTime(timezone=True)))
    op.add_column("switching_steps", sa.Column("remark", sa.Text()))
    op.create_check_constraint(
        "ck_switching_steps_failed",
        "switching_steps",
        "(state = 'failed') = (failed_at IS NOT NULL)",
    )
    op.create_check_constraint(
        "ck_switching_steps_expect", "switching_steps", "expect_open IS NULL OR action = 'verify'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE switching_steps SET state = 'pending', failed_at = NULL WHERE state = 'failed'"
    )
    op.execute("UPDATE switching_orders SET state = 'in_progress' WHERE state = 'held'")
    op.drop_constraint("ck_switching_steps_expect", "switching_steps", type_="check")
    op.drop_constraint("ck_switching_steps_failed", "switching_steps", type_="check")
    for column in ("remark", "failed_at", "commands", "expect_open"):
        op.drop_column("switching_steps", column)
    _states(_ORDER_STATES, _STEP_STATES)
