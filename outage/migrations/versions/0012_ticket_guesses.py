"""ticket_guesses: wrong phone-digit checks per ticket and client address, shared by every
process.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ticket_guesses",
        sa.Column("ticket", sa.String(length=16), nullable=False),
        sa.Column("client", sa.String(length=45), nullable=False),
        sa.Column("wrong", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ticket", "client"),
    )


def downgrade() -> None:
    op.drop_table("ticket_guesses")
