"""A root a day over every chain's head, published (and signed, where the utility keeps a
key) so that a chain rewritten afterwards no longer matches it.

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-07 10:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0040"
down_revision: str | None = "0039"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chain_roots",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("heads", postgresql.JSONB(), nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=True),
        sa.Column("public_key", sa.String(64), nullable=True),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(signature IS NULL) = (public_key IS NULL)", name="ck_chain_roots_signed"
        ),
    )


def downgrade() -> None:
    op.drop_table("chain_roots")
