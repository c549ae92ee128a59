"""reliability: no tables.

Interruption records are derived from incidents, their audit trail and planned outages
when a report asks (see outage.reliability.records), so there is nothing to store; the
revision keeps its place in the chain.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 01:00:00
"""

from collections.abc import Sequence

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
