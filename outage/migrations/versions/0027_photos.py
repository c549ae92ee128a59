"""Photos of reports and incidents, kept re-encoded in the database, and the record of
photos asked for by URL.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-19 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCES = ("web", "api", "open311", "email", "zalo", "crew", "staff")
OUTCOMES = ("stored", "failed")


def _enum(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    op.create_table(
        "photos",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "report_id", sa.BigInteger(), sa.ForeignKey("reports.id", name="fk_photos_report_id")
        ),
        sa.Column(
            "incident_id",
            sa.Integer(),
            sa.ForeignKey("incidents.id", name="fk_photos_incident_id"),
        ),
        sa.Column("source", _enum(SOURCES, "photo_source"), nullable=False),
        sa.Column("added_by", sa.String(200)),
        sa.Column("content_type", sa.String(20), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("thumbnail", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "num_nonnulls(report_id, incident_id) >= 1", name="ck_photos_belongs_somewhere"
        ),
    )
    op.create_index("ix_photos_report_id", "photos", ["report_id"])
    op.create_index("ix_photos_incident_id", "photos", ["incident_id"])
    op.create_table(
        "photo_fetches",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "report_id",
            sa.BigInteger(),
            sa.ForeignKey("reports.id", name="fk_photo_fetches_report_id"),
            nullable=False,
        ),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("outcome", _enum(OUTCOMES, "photo_fetch_outcome"), nullable=False),
        sa.Column(
            "photo_id",
            sa.BigInteger(),
            sa.ForeignKey("photos.id", name="fk_photo_fetches_photo_id"),
        ),
        sa.Column("reason", sa.Text()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index("ix_photo_fetches_report_id", "photo_fetches", ["report_id"])


def downgrade() -> None:
    op.drop_table("photo_fetches")
    op.drop_table("photos")
