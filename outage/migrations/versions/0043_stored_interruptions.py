"""Interruption records are stored as restorations write them (`interruptions`), with each
customer's merged spells (`interruption_spells`) and the system's totals by the instant
spells began (`interruption_totals`), so reliability reports read them instead of deriving
every record from the audit trail. Existing incidents' records are stored by
`outage reliability rebuild`, run once after this upgrade.

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-07 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0043"
down_revision: str | None = "0042"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "interruptions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("incident_start", _TIME, nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("start", _TIME, nullable=False),
        sa.Column("end", _TIME, nullable=False),
        sa.Column("planned", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_interruptions"),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name="fk_interruptions_incident_id",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint('"end" >= start', name="ck_interruptions_end_after_start"),
    )
    op.create_index("ix_interruptions_incident_id", "interruptions", ["incident_id"])
    op.create_index("ix_interruptions_account_start", "interruptions", ["account", "start"])
    op.create_table(
        "interruption_spells",
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("start", _TIME, nullable=False),
        sa.Column("end", _TIME, nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("planned", sa.Boolean(), nullable=False),
        sa.Column("momentary_event", sa.Boolean(), nullable=False),
        sa.Column("substation_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("account", "start", name="pk_interruption_spells"),
    )
    op.create_index("ix_interruption_spells_start", "interruption_spells", ["start"])
    op.create_table(
        "interruption_totals",
        sa.Column("began_at", _TIME, nullable=False),
        sa.Column("customer_us", sa.BigInteger(), nullable=False),
        sa.Column("interruptions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("began_at", name="pk_interruption_totals"),
    )


def downgrade() -> None:
    op.drop_table("interruption_totals")
    op.drop_table("interruption_spells")
    op.drop_table("interruptions")
