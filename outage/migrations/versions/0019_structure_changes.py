"""Re-imports applied incrementally: the features each structure version changed, and
features a re-import retired (kept for the records that name them, out of the network).

Revision ID: 0019
Revises: 0018
Create Date: 2027-01-12 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RETIRABLE = ("devices", "nodes", "premises")


def upgrade() -> None:
    for table in RETIRABLE:
        op.add_column(table, sa.Column("retired_in", sa.BigInteger()))
    op.create_table(
        "structure_changes",
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("version", "kind", "ref", name="pk_structure_changes"),
        sa.CheckConstraint("kind IN ('device', 'node')", name="ck_structure_changes_kind"),
    )


def downgrade() -> None:
    op.drop_table("structure_changes")
    for table in RETIRABLE:
        op.drop_column(table, "retired_in")
