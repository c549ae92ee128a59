"""Messages given up on, by when: the supervisor's live panel counts the last hour's
every 30 seconds, and a storm leaves the notifications table large.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-20 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_notifications_dead_updated_at",
        "notifications",
        ["updated_at"],
        unique=False,
        postgresql_where="status = 'dead'",
    )


def downgrade() -> None:
    op.drop_index(
        "ix_notifications_dead_updated_at",
        table_name="notifications",
        postgresql_where="status = 'dead'",
    )
