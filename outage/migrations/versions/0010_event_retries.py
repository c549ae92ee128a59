"""Outbox events fail alone: attempts, a back-off and a dead letter per event.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "notification_events",
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column(
        "notification_events",
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column("notification_events", sa.Column("last_error", sa.Text(), nullable=True))
    op.add_column(
        "notification_events", sa.Column("dead_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    for column in ("dead_at", "last_error", "next_attempt_at", "attempts"):
        op.drop_column("notification_events", column)
