""" "Power is back" asks "still out?" itself: the separate follow-up events still waiting to
be fanned out are done with (no message is written for them), so an upgrade sends no
second message after a restoration. Follow-ups already written are sent and answered as
before.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-21 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE notification_events SET expanded_at = now()"
        " WHERE kind = 'follow_up' AND expanded_at IS NULL"
    )


def downgrade() -> None:
    """Nothing to undo: the events done with were never fanned out."""
