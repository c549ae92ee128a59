"""Reports, smart-meter and SCADA events, the service territory, and meter ids.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 19:40:44.866583
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_geospatial_table(
        "service_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_geospatial_index(
        "ix_service_areas_geom",
        "service_areas",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "scada_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "open",
                "closed",
                name="scada_switch_state",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("cause", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_id", "state", "occurred_at", name="uq_scada_events_once"),
    )
    op.create_index(op.f("ix_scada_events_device_id"), "scada_events", ["device_id"], unique=False)
    op.create_table(
        "meter_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("meter_id", sa.String(length=64), nullable=False),
        sa.Column("premise_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "last_gasp",
                "power_restored",
                name="meter_event_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["premise_id"],
            ["premises.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meter_id", "kind", "occurred_at", name="uq_meter_events_once"),
    )
    op.create_index(
        "ix_meter_events_premise_time", "meter_events", ["premise_id", "occurred_at"], unique=False
    )
    op.create_geospatial_table(
        "reports",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("ticket", sa.String(length=16), nullable=False),
        sa.Column("service_code", sa.String(length=40), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "web",
                "sms",
                "email",
                "ivr",
                "agent",
                "open311",
                "api",
                name="report_channel",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "received",
                "needs_agent",
                "duplicate",
                "closed",
                name="report_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("account_given", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("address_given", sa.String(length=300), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "hazard",
            sa.Enum(
                "wires_down",
                "fire",
                "tree_on_line",
                "flooded_equipment",
                name="report_hazard",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("premise_id", sa.Integer(), nullable=True),
        sa.Column("transformer_id", sa.Integer(), nullable=True),
        sa.Column("feeder_id", sa.Integer(), nullable=True),
        sa.Column(
            "match_method",
            sa.Enum(
                "account",
                "phone",
                "email",
                "gps_premise",
                "gps_transformer",
                "address",
                "agent",
                "none",
                name="report_match_method",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("match_confidence", sa.Float(), nullable=False),
        sa.Column("candidates", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("duplicate_of_id", sa.BigInteger(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"],
            ["reports.id"],
        ),
        sa.ForeignKeyConstraint(
            ["feeder_id"],
            ["feeders.id"],
        ),
        sa.ForeignKeyConstraint(
            ["premise_id"],
            ["premises.id"],
        ),
        sa.ForeignKeyConstraint(
            ["transformer_id"],
            ["devices.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("ticket"),
    )
    op.create_index(
        "ix_reports_agent_queue",
        "reports",
        ["received_at"],
        unique=False,
        postgresql_where="status = 'needs_agent'",
    )
    op.create_index(
        "ix_reports_customer_received", "reports", ["customer_id", "received_at"], unique=False
    )
    op.create_geospatial_index(
        "ix_reports_geom",
        "reports",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_reports_phone"), "reports", ["phone"], unique=False)
    op.create_index(
        "ix_reports_premise_received", "reports", ["premise_id", "received_at"], unique=False
    )
    op.add_column("premises", sa.Column("meter_id", sa.String(length=64), nullable=True))
    op.create_unique_constraint("uq_premises_meter_id", "premises", ["meter_id"])


def downgrade() -> None:
    op.drop_constraint("uq_premises_meter_id", "premises", type_="unique")
    op.drop_column("premises", "meter_id")
    op.drop_index("ix_reports_premise_received", table_name="reports")
    op.drop_index(op.f("ix_reports_phone"), table_name="reports")
    op.drop_geospatial_index(
        "ix_reports_geom", table_name="reports", postgresql_using="gist", column_name="geom"
    )
    op.drop_index("ix_reports_customer_received", table_name="reports")
    op.drop_index(
        "ix_reports_agent_queue", table_name="reports", postgresql_where="status = 'needs_agent'"
    )
    op.drop_geospatial_table("reports")
    op.drop_index("ix_meter_events_premise_time", table_name="meter_events")
    op.drop_table("meter_events")
    op.drop_index(op.f("ix_scada_events_device_id"), table_name="scada_events")
    op.drop_table("scada_events")
    op.drop_geospatial_index(
        "ix_service_areas_geom",
        table_name="service_areas",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("service_areas")
