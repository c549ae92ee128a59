"""Photos keep the hash of the bytes as they were sent, so a photo sent again is known
before it is decoded.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-20 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("photos", sa.Column("sent_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("photos", "sent_sha256")
