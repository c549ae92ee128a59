"""Storms: a declared storm's level and phase, its regions' own phases and restoration
times, and the trail of who changed what.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-24 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PHASES = "'assessing', 'global', 'regional', 'job'"
_ETR_RANGE = "(etr IS NULL) = (etr_latest IS NULL) AND (etr IS NULL OR etr <= etr_latest)"


def upgrade() -> None:
    op.create_table(
        "storms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(20), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("declared_by", sa.Text(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("etr", sa.DateTime(timezone=True)),
        sa.Column("etr_latest", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_storms"),
        sa.CheckConstraint("level BETWEEN 1 AND 3", name="ck_storms_level"),
        sa.CheckConstraint("ended_at IS NULL OR ended_at >= declared_at", name="ck_storms_ended"),
        sa.CheckConstraint(_ETR_RANGE, name="ck_storms_etr"),
        sa.CheckConstraint(f"phase IN ({_PHASES})", name="storm_phase"),
    )
    op.create_index(
        "uq_storms_one_on",
        "storms",
        [sa.text("(true)")],
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_table(
        "storm_regions",
        sa.Column("storm_id", sa.Integer(), nullable=False),
        sa.Column("substation_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(20)),
        sa.Column("etr", sa.DateTime(timezone=True)),
        sa.Column("etr_latest", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("storm_id", "substation_id", name="pk_storm_regions"),
        sa.ForeignKeyConstraint(["storm_id"], ["storms.id"], name="fk_storm_regions_storm_id"),
        sa.ForeignKeyConstraint(
            ["substation_id"], ["substations.id"], name="fk_storm_regions_substation_id"
        ),
        sa.CheckConstraint(_ETR_RANGE, name="ck_storm_regions_etr"),
        sa.CheckConstraint(f"phase IN ({_PHASES})", name="storm_region_phase"),
    )
    op.create_table(
        "storm_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("storm_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("details", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_storm_events"),
        sa.ForeignKeyConstraint(["storm_id"], ["storms.id"], name="fk_storm_events_storm_id"),
        sa.CheckConstraint(
            "action IN ('declared', 'level_set', 'phase_set', 'etr_set', 'ended')",
            name="storm_event_action",
        ),
    )
    op.create_index("ix_storm_events_storm_at", "storm_events", ["storm_id", "at"])


def downgrade() -> None:
    op.drop_table("storm_events")
    op.drop_table("storm_regions")
    op.drop_index("uq_storms_one_on", table_name="storms")
    op.drop_table("storms")
