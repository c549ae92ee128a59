"""Dispatcher edits: who placed an incident by hand (the engine then leaves its place
alone), and outbox events that name their customers (those re-energised by switching).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-09 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("incidents", sa.Column("placed_by", sa.String(200)))
    op.add_column("notification_events", sa.Column("accounts", postgresql.ARRAY(sa.Text())))


def downgrade() -> None:
    op.drop_column("notification_events", "accounts")
    op.drop_column("incidents", "placed_by")
