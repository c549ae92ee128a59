"""Customer-care service requests and the trail of their state changes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REQUEST_TYPES = (
    "new_connection",
    "meter_relocation",
    "change_of_contract_holder",
    "change_of_tariff_quota",
    "meter_check",
    "billing_question",
    "electricity_safety",
    "service_feedback",
)
STATES = ("received", "in_progress", "waiting_for_customer", "done", "rejected")
CHANNELS = ("web", "sms", "email", "ivr", "agent", "open311", "api")
"""The vocabularies as of this revision (frozen here, like the schema)."""

OPEN = sa.text("state IN ('received', 'in_progress', 'waiting_for_customer')")


def _enum(values: Sequence[str], name: str, length: int = 20) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def upgrade() -> None:
    op.create_table(
        "service_requests",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("ticket", sa.String(length=16), nullable=False),
        sa.Column("request_type", _enum(REQUEST_TYPES, "service_request_type", 40), nullable=False),
        sa.Column("channel", _enum(CHANNELS, "service_request_channel"), nullable=False),
        sa.Column("state", _enum(STATES, "service_request_state"), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("account_given", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("address_given", sa.String(length=300), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
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
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "(closed_at IS NOT NULL) = (state IN ('done', 'rejected'))",
            name="ck_service_requests_closed_at",
        ),
        sa.CheckConstraint(
            "(state = 'rejected') = (rejection_reason IS NOT NULL)",
            name="ck_service_requests_rejection_reason",
        ),
        sa.CheckConstraint(
            "rating IS NULL OR (rating BETWEEN 1 AND 5 AND closed_at IS NOT NULL)",
            name="ck_service_requests_rating",
        ),
        sa.CheckConstraint(
            "(rating IS NULL) = (rated_at IS NULL)", name="ck_service_requests_rated"
        ),
        sa.CheckConstraint("due_at > received_at", name="ck_service_requests_due_after_received"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.ForeignKeyConstraint(["premise_id"], ["premises.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("ticket"),
    )
    op.create_index(
        "ix_service_requests_open_due",
        "service_requests",
        ["due_at"],
        unique=False,
        postgresql_where=OPEN,
    )
    op.create_index(
        "ix_service_requests_type_received",
        "service_requests",
        ["request_type", "received_at"],
        unique=False,
    )
    op.create_index(
        "ix_service_requests_customer_received",
        "service_requests",
        ["customer_id", "received_at"],
        unique=False,
    )
    op.create_index(
        "ix_service_requests_premise_received",
        "service_requests",
        ["premise_id", "received_at"],
        unique=False,
    )
    op.create_index(op.f("ix_service_requests_phone"), "service_requests", ["phone"], unique=False)
    op.create_table(
        "service_request_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("from_state", _enum(STATES, "service_request_event_from_state"), nullable=True),
        sa.Column("to_state", _enum(STATES, "service_request_event_to_state"), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["service_requests.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_service_request_events_request_at",
        "service_request_events",
        ["request_id", "at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_service_request_events_request_at", table_name="service_request_events")
    op.drop_table("service_request_events")
    op.drop_index(op.f("ix_service_requests_phone"), table_name="service_requests")
    op.drop_index("ix_service_requests_premise_received", table_name="service_requests")
    op.drop_index("ix_service_requests_customer_received", table_name="service_requests")
    op.drop_index("ix_service_requests_type_received", table_name="service_requests")
    op.drop_index("ix_service_requests_open_due", table_name="service_requests")
    op.drop_table("service_requests")
