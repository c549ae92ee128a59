"""Meter pings: each meter asked by the head-end whether it has power, and its answer.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-22 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = ("verify_incident", "single_call", "restoration", "manual")
STATES = ("pending", "on", "off", "no_answer")


def _enum(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    op.create_table(
        "meter_pings",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("meter_id", sa.String(64), nullable=False),
        sa.Column(
            "premise_id",
            sa.Integer(),
            sa.ForeignKey("premises.id", name="meter_pings_premise_id_fkey"),
            nullable=False,
        ),
        sa.Column("reason", _enum(REASONS, "meter_ping_reason"), nullable=False),
        sa.Column(
            "incident_id",
            sa.Integer(),
            sa.ForeignKey("incidents.id", name="fk_meter_pings_incident_id"),
        ),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("state", _enum(STATES, "meter_ping_state"), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.Column(
            "meter_event_id",
            sa.BigInteger(),
            sa.ForeignKey("meter_events.id", name="fk_meter_pings_meter_event_id"),
        ),
        sa.UniqueConstraint("request_id", "meter_id", name="uq_meter_pings_request_meter"),
    )
    op.create_index("ix_meter_pings_asked_at", "meter_pings", ["asked_at"])
    op.create_index("ix_meter_pings_incident_id", "meter_pings", ["incident_id"])
    op.create_index(
        "ix_meter_pings_unsent",
        "meter_pings",
        ["asked_at"],
        postgresql_where=sa.text("sent_at IS NULL"),
    )
    op.create_index(
        "ix_meter_pings_pending",
        "meter_pings",
        ["asked_at"],
        postgresql_where=sa.text("state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("meter_pings")
