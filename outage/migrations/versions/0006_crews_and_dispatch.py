"""Crews and dispatch: crews, their shifts and positions, the dispatcher's pins, and the plans.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 01:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SKILLS = (
    "skills <@ ARRAY['overhead_line', 'underground', 'service_meter', 'vegetation', "
    "'substation']::varchar[]"
)
"""The known skills (as in the model, frozen here)."""

CREWS_IN_USE = """
INSERT INTO crews (id, name, skills, depot, status)
SELECT used.crew_id, 'Crew ' || used.crew_id, '{}', (
    SELECT coalesce(
        ST_SetSRID(ST_Centroid(ST_Extent(geom)::geometry), 4326),
        ST_SetSRID(ST_MakePoint(0, 0), 4326)
    ) FROM devices
), 'off_shift'
FROM (SELECT crew_id FROM staff_users UNION SELECT crew_id FROM incidents) AS used
WHERE used.crew_id IS NOT NULL
"""
"""Crew numbers in use before crews had a table (crew members', incidents') become crews,
off shift at the grid's middle until a dispatcher completes them, so the new keys hold."""


def _enum(name: str, *values: str, length: int = 20) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def _point(nullable: bool) -> Geometry:
    return Geometry(
        geometry_type="POINT",
        srid=4326,
        dimension=2,
        spatial_index=False,
        from_text="ST_GeomFromEWKT",
        name="geometry",
        nullable=nullable,
    )


def _now(name: str) -> "sa.Column[Any]":
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_geospatial_table(
        "crews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("skills", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("depot", _point(False), nullable=False),
        sa.Column("vehicle", sa.String(length=100), nullable=True),
        sa.Column(
            "status",
            _enum("crew_status", "available", "en_route", "on_site", "off_shift"),
            nullable=False,
        ),
        sa.Column("position", _point(True), nullable=True),
        sa.Column("position_accuracy_m", sa.Float(), nullable=True),
        sa.Column("position_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("help_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("help_incident_id", sa.Integer(), nullable=True),
        sa.Column("help_note", sa.Text(), nullable=True),
        _now("created_at"),
        _now("updated_at"),
        sa.CheckConstraint(SKILLS, name="ck_crews_skills"),
        sa.CheckConstraint(
            "(position IS NULL) = (position_at IS NULL)", name="ck_crews_position_at"
        ),
        sa.CheckConstraint(
            "help_requested_at IS NOT NULL OR (help_incident_id IS NULL AND help_note IS NULL)",
            name="ck_crews_help",
        ),
        sa.ForeignKeyConstraint(
            ["help_incident_id"], ["incidents.id"], name="fk_crews_help_incident_id"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_crews"),
        sa.UniqueConstraint("name", name="uq_crews_name"),
    )
    op.create_table(
        "crew_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crew_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name="ck_crew_shifts_order"),
        sa.ForeignKeyConstraint(
            ["crew_id"], ["crews.id"], name="fk_crew_shifts_crew_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_crew_shifts"),
    )
    op.create_index("ix_crew_shifts_crew_id_ends_at", "crew_shifts", ["crew_id", "ends_at"])
    op.create_geospatial_table(
        "crew_positions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("crew_id", sa.Integer(), nullable=False),
        sa.Column("geom", _point(False), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        _now("received_at"),
        sa.CheckConstraint(
            "accuracy_m IS NULL OR accuracy_m >= 0", name="ck_crew_positions_accuracy"
        ),
        sa.ForeignKeyConstraint(
            ["crew_id"], ["crews.id"], name="fk_crew_positions_crew_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_crew_positions"),
    )
    op.create_index(
        "ix_crew_positions_crew_id_recorded_at", "crew_positions", ["crew_id", "recorded_at"]
    )
    op.create_table(
        "dispatch_pins",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("crew_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("pinned_by", sa.Text(), nullable=False),
        _now("pinned_at"),
        sa.CheckConstraint("position IS NULL OR position >= 1", name="ck_dispatch_pins_position"),
        sa.ForeignKeyConstraint(
            ["crew_id"], ["crews.id"], name="fk_dispatch_pins_crew_id", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_dispatch_pins_incident_id"
        ),
        sa.PrimaryKeyConstraint("incident_id", name="pk_dispatch_pins"),
    )
    op.create_table(
        "dispatch_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("made_by", sa.Text(), nullable=False),
        sa.Column("method", _enum("dispatch_plan_method", "optimiser", "greedy"), nullable=False),
        sa.Column("objective", sa.Float(), nullable=False),
        sa.Column("cmi", sa.Float(), nullable=False),
        sa.Column("greedy_objective", sa.Float(), nullable=False),
        sa.Column("greedy_cmi", sa.Float(), nullable=False),
        sa.Column("solve_s", sa.Float(), nullable=False),
        sa.Column("storm", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dispatch_plans"),
    )
    op.create_index("ix_dispatch_plans_made_at", "dispatch_plans", ["made_at"])
    op.create_table(
        "dispatch_plan_jobs",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("crew_id", sa.Integer(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("arrival", sa.DateTime(timezone=True), nullable=True),
        sa.Column("start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finish", sa.DateTime(timezone=True), nullable=True),
        sa.Column("travel_s", sa.Integer(), nullable=True),
        sa.Column(
            "tier", _enum("dispatch_plan_job_tier", "hazard", "critical", "outage"), nullable=False
        ),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("critical", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("etr", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "unassigned_reason",
            _enum(
                "dispatch_plan_job_reason",
                "no_skilled_crew",
                "pinned_crew_unavailable",
                "no_time_in_shift",
                "no_location",
                length=40,
            ),
            nullable=True,
        ),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(crew_id IS NULL) = (sequence IS NULL AND arrival IS NULL AND start IS NULL "
            "AND finish IS NULL AND travel_s IS NULL)",
            name="ck_dispatch_plan_jobs_visit",
        ),
        sa.CheckConstraint(
            "(crew_id IS NULL) = (unassigned_reason IS NOT NULL)",
            name="ck_dispatch_plan_jobs_crew_or_reason",
        ),
        sa.ForeignKeyConstraint(
            ["crew_id"], ["crews.id"], name="fk_dispatch_plan_jobs_crew_id", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_dispatch_plan_jobs_incident_id"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["dispatch_plans.id"],
            name="fk_dispatch_plan_jobs_plan_id",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_id", "incident_id", name="pk_dispatch_plan_jobs"),
    )
    op.create_index("ix_dispatch_plan_jobs_crew_id", "dispatch_plan_jobs", ["crew_id"])
    op.create_index("ix_dispatch_plan_jobs_incident_id", "dispatch_plan_jobs", ["incident_id"])
    op.execute(CREWS_IN_USE)
    op.execute("SELECT setval(pg_get_serial_sequence('crews', 'id'), max(id)) FROM crews")
    op.create_foreign_key(
        "fk_staff_users_crew_id", "staff_users", "crews", ["crew_id"], ["id"], ondelete="RESTRICT"
    )
    op.create_foreign_key(
        "fk_incidents_crew_id", "incidents", "crews", ["crew_id"], ["id"], ondelete="RESTRICT"
    )


def downgrade() -> None:
    op.drop_constraint("fk_incidents_crew_id", "incidents", type_="foreignkey")
    op.drop_constraint("fk_staff_users_crew_id", "staff_users", type_="foreignkey")
    op.drop_table("dispatch_plan_jobs")
    op.drop_table("dispatch_plans")
    op.drop_table("dispatch_pins")
    op.drop_geospatial_table("crew_positions")
    op.drop_table("crew_shifts")
    op.drop_geospatial_table("crews")
