"""An estimated restoration is a range: the likely earliest and latest beside the
expected time (`etr`). Both are empty for a crew's or a dispatcher's own time.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-24 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RANGE = (
    "(etr_earliest IS NULL) = (etr_latest IS NULL)"
    " AND (etr_earliest IS NULL OR (etr IS NOT NULL AND etr_earliest <= etr AND etr <= etr_latest))"
)


def upgrade() -> None:
    op.add_column("incidents", sa.Column("etr_earliest", sa.DateTime(timezone=True)))
    op.add_column("incidents", sa.Column("etr_latest", sa.DateTime(timezone=True)))
    op.create_check_constraint("ck_incidents_etr_range", "incidents", _RANGE)


def downgrade() -> None:
    op.drop_constraint("ck_incidents_etr_range", "incidents", type_="check")
    op.drop_column("incidents", "etr_latest")
    op.drop_column("incidents", "etr_earliest")
