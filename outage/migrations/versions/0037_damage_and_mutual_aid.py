"""Damage assessments from the field, and crews from elsewhere for a storm: where a crew
comes from (our own, mutual aid, a contractor), when it arrives and when it is released.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = {"poles_down": 500, "spans_down": 1000, "transformers_damaged": 200, "trees_on_line": 500}
"""The most of each an assessment may count (as in the model, frozen here)."""


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    op.add_column(
        "crews",
        sa.Column(
            "origin",
            _enum("crew_origin", "own", "mutual_aid", "contractor"),
            server_default="own",
            nullable=False,
        ),
    )
    op.add_column("crews", sa.Column("organisation", sa.String(length=200), nullable=True))
    op.add_column("crews", sa.Column("arrives_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("crews", sa.Column("released_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(
        "ck_crews_release_after_arrival",
        "crews",
        "released_at IS NULL OR arrives_at IS NULL OR released_at > arrives_at",
    )
    op.create_geospatial_table(
        "damage_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("crew_id", sa.Integer(), nullable=True),
        sa.Column("reported_by", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "location",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=True,
            ),
            nullable=True,
        ),
        *(sa.Column(column, sa.Integer(), nullable=False) for column in COUNTS),
        sa.Column(
            "access", _enum("damage_access", "normal", "difficult", "blocked"), nullable=False
        ),
        sa.Column(
            "crew_type_needed",
            _enum(
                "damage_crew_type",
                "overhead_line",
                "underground",
                "service_meter",
                "vegetation",
                "substation",
            ),
            nullable=False,
        ),
        sa.Column("hours_needed", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "incident_id IS NOT NULL OR location IS NOT NULL", name="ck_damage_assessments_place"
        ),
        *(
            sa.CheckConstraint(
                f"{column} BETWEEN 0 AND {most}", name=f"ck_damage_assessments_{column}"
            )
            for column, most in COUNTS.items()
        ),
        sa.CheckConstraint(
            "hours_needed > 0 AND hours_needed <= 500", name="ck_damage_assessments_hours_needed"
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_damage_assessments_incident_id"
        ),
        sa.ForeignKeyConstraint(
            ["crew_id"], ["crews.id"], name="fk_damage_assessments_crew_id", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_damage_assessments"),
        sa.UniqueConstraint("idempotency_key", name="uq_damage_assessments_idempotency_key"),
    )
    op.create_index(
        "ix_damage_assessments_incident_id_assessed_at",
        "damage_assessments",
        ["incident_id", "assessed_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_damage_assessments_incident_id_assessed_at", "damage_assessments")
    op.drop_geospatial_table("damage_assessments")
    op.drop_constraint("ck_crews_release_after_arrival", "crews", type_="check")
    for column in ("released_at", "arrives_at", "organisation", "origin"):
        op.drop_column("crews", column)
