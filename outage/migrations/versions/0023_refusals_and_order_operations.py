"""Why a return to normal could not be drafted yet, kept so it is logged once.

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


def downgrade() -> None:
    op.drop_column("restoration_orders", "normal_refusal")
