"""Tamper-evident records: incident events, service-request events and sent messages are
sealed into hash chains, each row carrying its place in its chain and a hash over its
content and the row before's; each chain's head is kept.

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-07 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0039"
down_revision: str | None = "0038"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEALED = {
    "incident_events": None,
    "service_request_events": None,
    "notifications": "status = 'sent'",
}
"""Each chained table, with which of its rows are to be sealed."""


def upgrade() -> None:
    for table, sealable in SEALED.items():
        op.add_column(table, sa.Column("chain_seq", sa.BigInteger(), nullable=True))
        op.add_column(table, sa.Column("chain_hash", sa.String(64), nullable=True))
        op.add_column(table, sa.Column("chain_digest", sa.String(64), nullable=True))
        op.add_column(table, sa.Column("chain_salt", sa.LargeBinary(), nullable=True))
        op.create_unique_constraint(f"uq_{table}_chain_seq", table, ["chain_seq"])
        op.create_index(
            f"ix_{table}_unsealed",
            table,
            ["id"],
            postgresql_where=sa.text(
                f"chain_seq IS NULL AND {sealable}" if sealable else "chain_seq IS NULL"
            ),
        )
    op.create_table(
        "chain_heads",
        sa.Column("chain", sa.String(40), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("seq >= 0", name="ck_chain_heads_seq"),
    )


def downgrade() -> None:
    op.drop_table("chain_heads")
    for table in SEALED:
        op.drop_index(f"ix_{table}_unsealed", table_name=table)
        op.drop_constraint(f"uq_{table}_chain_seq", table, type_="unique")
        for column in ("chain_salt", "chain_digest", "chain_hash", "chain_seq"):
            op.drop_column(table, column)
