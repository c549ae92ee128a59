"""Whose time an incident's ETR is: its own estimate, or in a storm's global or regional
phase the storm's or its area's time, told to its customers as theirs.

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-24 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0038"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "incidents",
        sa.Column("etr_scope", sa.String(10), nullable=False, server_default="outage"),
    )
    op.create_check_constraint(
        "incident_etr_scope", "incidents", "etr_scope IN ('outage', 'area', 'storm')"
    )


def downgrade() -> None:
    op.drop_constraint("incident_etr_scope", "incidents", type_="check")
    op.drop_column("incidents", "etr_scope")
