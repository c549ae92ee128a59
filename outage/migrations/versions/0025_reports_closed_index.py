"""The connection checks' job reads the recently closed reports every minute: an index on
when they closed, for closed reports only.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-18 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_reports_closed_at",
        "reports",
        ["closed_at"],
        postgresql_where="status = 'closed'",
    )


def downgrade() -> None:
    op.drop_index("ix_reports_closed_at", table_name="reports")
