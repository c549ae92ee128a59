"""Incidents, the evidence behind them and their audit trail; reports point to their incident.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 20:13:15.697786
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text(
    "status IN ('confirmed', 'dispatched', 'en_route', 'on_site', 'partially_restored', "
    "'predicted')"
)
"""Predicate of the partial index on active incidents (as in the model, frozen here)."""


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "outage",
                "hazard",
                name="incident_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "predicted",
                "confirmed",
                "dispatched",
                "en_route",
                "on_site",
                "partially_restored",
                "restored",
                "closed",
                "cancelled",
                name="incident_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("premise_id", sa.Integer(), nullable=True),
        sa.Column("feeder_id", sa.Integer(), nullable=True),
        sa.Column(
            "hazard",
            sa.Enum(
                "wires_down",
                "fire",
                "tree_on_line",
                "flooded_equipment",
                name="incident_hazard",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("customers_affected", sa.Integer(), nullable=False),
        sa.Column("customers_restored", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("restored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("momentary", sa.Boolean(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("etr", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "etr_source",
            sa.Enum(
                "predicted",
                "crew",
                "dispatcher",
                name="incident_etr_source",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("crew_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(restored_at IS NOT NULL) = (status IN ('restored', 'closed'))",
            name="ck_incidents_restored_at",
        ),
        sa.CheckConstraint(
            "merged_into_id IS NULL OR (status = 'cancelled' AND merged_into_id <> id)",
            name="ck_incidents_merged_cancelled",
        ),
        sa.CheckConstraint("(etr IS NULL) = (etr_source IS NULL)", name="ck_incidents_etr_source"),
        sa.CheckConstraint("confidence BETWEEN 0 AND 1", name="ck_incidents_confidence"),
        sa.CheckConstraint(
            "customers_restored BETWEEN 0 AND customers_affected", name="ck_incidents_customers"
        ),
        sa.CheckConstraint(
            "device_id IS NULL OR premise_id IS NULL", name="ck_incidents_device_or_premise"
        ),
        sa.CheckConstraint("parent_id <> id", name="ck_incidents_not_own_parent"),
        sa.CheckConstraint(
            "restored_at IS NULL OR restored_at >= started_at",
            name="ck_incidents_restored_after_start",
        ),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name="fk_incidents_device_id"),
        sa.ForeignKeyConstraint(["feeder_id"], ["feeders.id"], name="fk_incidents_feeder_id"),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["incidents.id"], name="fk_incidents_merged_into_id"
        ),
        sa.ForeignKeyConstraint(["parent_id"], ["incidents.id"], name="fk_incidents_parent_id"),
        sa.ForeignKeyConstraint(["premise_id"], ["premises.id"], name="fk_incidents_premise_id"),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
    )
    op.create_index(
        "ix_incidents_active", "incidents", ["status"], unique=False, postgresql_where=ACTIVE
    )
    op.create_index("ix_incidents_device_id", "incidents", ["device_id"], unique=False)
    op.create_index("ix_incidents_feeder_id", "incidents", ["feeder_id"], unique=False)
    op.create_index("ix_incidents_parent_id", "incidents", ["parent_id"], unique=False)
    op.create_table(
        "incident_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "opened",
                "updated",
                "moved",
                "nested",
                "merged",
                "absorbed",
                "confirmed",
                "assigned",
                "unassigned",
                "en_route",
                "on_site",
                "reopened",
                "partially_restored",
                "restored",
                "cancelled",
                "closed",
                "cause_set",
                "etr_set",
                name="incident_event_action",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "from_status",
            sa.Enum(
                "predicted",
                "confirmed",
                "dispatched",
                "en_route",
                "on_site",
                "partially_restored",
                "restored",
                "closed",
                "cancelled",
                name="incident_event_from_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "predicted",
                "confirmed",
                "dispatched",
                "en_route",
                "on_site",
                "partially_restored",
                "restored",
                "closed",
                "cancelled",
                name="incident_event_to_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_incident_events_incident_id"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_incident_events"),
    )
    op.create_index(
        "ix_incident_events_incident_at", "incident_events", ["incident_id", "at"], unique=False
    )
    op.create_table(
        "incident_evidence",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=True),
        sa.Column("meter_event_id", sa.BigInteger(), nullable=True),
        sa.Column("scada_event_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "added_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "num_nonnulls(report_id, meter_event_id, scada_event_id) = 1",
            name="ck_incident_evidence_one_source",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_incident_evidence_incident_id"
        ),
        sa.ForeignKeyConstraint(
            ["meter_event_id"], ["meter_events.id"], name="fk_incident_evidence_meter_event_id"
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name="fk_incident_evidence_report_id"
        ),
        sa.ForeignKeyConstraint(
            ["scada_event_id"], ["scada_events.id"], name="fk_incident_evidence_scada_event_id"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_incident_evidence"),
        sa.UniqueConstraint(
            "incident_id", "meter_event_id", name="uq_incident_evidence_meter_event"
        ),
        sa.UniqueConstraint("incident_id", "report_id", name="uq_incident_evidence_report"),
        sa.UniqueConstraint(
            "incident_id", "scada_event_id", name="uq_incident_evidence_scada_event"
        ),
    )
    op.add_column("reports", sa.Column("incident_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_reports_incident_id"), "reports", ["incident_id"], unique=False)
    op.create_foreign_key("fk_reports_incident_id", "reports", "incidents", ["incident_id"], ["id"])


def downgrade() -> None:
    op.drop_constraint("fk_reports_incident_id", "reports", type_="foreignkey")
    op.drop_index(op.f("ix_reports_incident_id"), table_name="reports")
    op.drop_column("reports", "incident_id")
    op.drop_table("incident_evidence")
    op.drop_index("ix_incident_events_incident_at", table_name="incident_events")
    op.drop_table("incident_events")
    op.drop_index("ix_incidents_parent_id", table_name="incidents")
    op.drop_index("ix_incidents_feeder_id", table_name="incidents")
    op.drop_index("ix_incidents_device_id", table_name="incidents")
    op.drop_index("ix_incidents_active", table_name="incidents", postgresql_where=ACTIVE)
    op.drop_table("incidents")
