"""Interruption records are stored as restorations write them (`interruptions`, keyed by
the incident), with each customer's merged spells (`interruption_spells`) and the system's
totals by the instant spells began (`interruption_totals`), so reliability reports read
them instead of deriving every record from the audit trail. `recorded_incidents` names the
incidents whose records are stored: those restored before this upgrade are stored by the
engine role's backfill job, and reports derive them until then. Customers whose records
changed wait in `interruption_spells_due` for the spells job to write their spells.

It follows 0044 (written beside it and merged first), so a database already at 0044
goes on to this one.

Revision ID: 0043
Revises: 0044
Create Date: 2026-12-07 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0043"
down_revision: str | None = "0044"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "interruptions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("incident_start", _TIME, nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_interruptions_customer_id",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint('"end" >= start', name="ck_interruptions_end_after_start"),
    )
    op.create_index("ix_interruptions_incident_id", "interruptions", ["incident_id"])
    op.create_index("ix_interruptions_customer_id_start", "interruptions", ["customer_id", "start"])
    op.create_table(
        "recorded_incidents",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name="pk_recorded_incidents"),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name="fk_recorded_incidents_incident_id",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "interruption_spells_due",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_interruption_spells_due"),
    )
    op.create_table(
        "interruption_spells",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("start", _TIME, nullable=False),
        sa.Column("end", _TIME, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("planned", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "start", name="pk_interruption_spells"),
    )
    op.create_index("ix_interruption_spells_start", "interruption_spells", ["start"])
    op.create_index("ix_interruption_spells_end", "interruption_spells", ["end"])
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
    op.drop_table("interruption_spells_due")
    op.drop_table("recorded_incidents")
    op.drop_table("interruptions")
