"""Notify the prediction engine when evidence arrives.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 21:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("reports", "meter_events", "scada_events")


def upgrade() -> None:
    op.execute(
        """
        CREATE OR REPLACE FUNCTION notify_evidence() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_notify('outage_evidence', TG_TABLE_NAME);
          RETURN NULL;
        END $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_notify_evidence AFTER INSERT ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION notify_evidence()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_notify_evidence ON {table}")
    op.execute("DROP FUNCTION IF EXISTS notify_evidence()")
