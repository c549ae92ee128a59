"""E-mail addresses are looked up case-blind (`lower(email)`), which the plain index on
`email` never served: each e-mail report read every customer. The index is now on
`lower(email)`.

Revision ID: 0045
Revises: 0043
Create Date: 2026-12-07 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0045"
down_revision: str | None = "0043"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_customers_email_lower", "customers", [sa.text("lower(email)")], unique=False
    )
    op.drop_index("ix_customers_email", table_name="customers")


def downgrade() -> None:
    op.create_index("ix_customers_email", "customers", ["email"], unique=False)
    op.drop_index("ix_customers_email_lower", table_name="customers")
