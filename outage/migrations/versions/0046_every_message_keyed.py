"""Every message has a substation key, as Citus requires of the column it distributes a
table by (it routes no NULL): a message sealed into its chain before the key existed,
which 0044 left without one, has 0 (no substation), and the key is NOT NULL.

It is given by the column's new definition, as a column added with a default gives every
row its value: the table is rewritten once, under its exclusive lock (no message is
written or sent until it ends, about as long as copying the table takes), with no UPDATE
of a chained row. What the seal covers does not change: the key is left out of it (it says
where a row is stored, not what was said), so `outage audit verify` holds as before.

Revision ID: 0046
Revises: 0045
Create Date: 2026-12-07 19:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0046"
down_revision: str | None = "0045"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE notifications"
        " ALTER COLUMN substation_id TYPE integer USING COALESCE(substation_id, 0),"
        " ALTER COLUMN substation_id SET NOT NULL"
    )


def downgrade() -> None:
    op.alter_column("notifications", "substation_id", nullable=True)
