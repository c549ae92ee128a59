"""A switching operation's request key: a retried report is recorded once.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-12 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("switch_operations", sa.Column("request_key", sa.String(200)))
    op.create_unique_constraint(
        "uq_switch_operations_actor_request_key", "switch_operations", ["actor", "request_key"]
    )


def downgrade() -> None:
    op.drop_constraint(
        "uq_switch_operations_actor_request_key", "switch_operations", type_="unique"
    )
    op.drop_column("switch_operations", "request_key")
