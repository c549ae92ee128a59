"""Why a return to normal could not be drafted yet, kept so it is logged once; and the
switching order's step that made a switching operation, so an order's operations are
found by it rather than by their free-text reason.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-16 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("restoration_orders", sa.Column("normal_refusal", sa.Text()))
    op.add_column(
        "switch_operations",
        sa.Column(
            "order_id",
            sa.Integer(),
            sa.ForeignKey("switching_orders.id", name="fk_switch_operations_order_id"),
        ),
    )
    op.add_column("switch_operations", sa.Column("step_position", sa.Integer()))
    # The order's operations recorded so far say their step only in their reason.
    op.execute(
        r"""
        UPDATE switch_operations SET
            order_id = substring(reason from '^order (\d+) step \d+')::integer,
            step_position = substring(reason from '^order \d+ step (\d+)')::integer
        WHERE source = 'order' AND reason ~ '^order \d+ step \d+'
          AND substring(reason from '^order (\d+) step')::integer
              IN (SELECT id FROM switching_orders)
        """
    )
    op.create_index("ix_switch_operations_order_id", "switch_operations", ["order_id"])
    op.create_check_constraint(
        "ck_switch_operations_order_step",
        "switch_operations",
        "(order_id IS NULL) = (step_position IS NULL)",
    )


def downgrade() -> None:
    op.drop_constraint("ck_switch_operations_order_step", "switch_operations")
    op.drop_index("ix_switch_operations_order_id", "switch_operations")
    op.drop_column("switch_operations", "step_position")
    op.drop_column("switch_operations", "order_id")
    op.drop_column("restoration_orders", "normal_refusal")
