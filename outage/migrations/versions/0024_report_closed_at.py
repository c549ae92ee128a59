"""When a report closed: its customer's restoration, or the incident's cancellation; and
the connection check, the care request opened when the network showed no outage.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-17 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
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
"""The request types before this revision (frozen here, like the schema)."""


def _request_types(*values: str) -> None:
    op.drop_constraint("service_request_type", "service_requests", type_="check")
    listed = ", ".join(f"'{v}'" for v in values)
    op.create_check_constraint(
        "service_request_type", "service_requests", f"request_type IN ({listed})"
    )


def upgrade() -> None:
    op.add_column("reports", sa.Column("closed_at", sa.DateTime(timezone=True)))
    _request_types(*REQUEST_TYPES, "connection_check")


def downgrade() -> None:
    op.execute(
        "DELETE FROM service_request_events WHERE request_id IN "
        "(SELECT id FROM service_requests WHERE request_type = 'connection_check')"
    )
    op.execute("DELETE FROM service_requests WHERE request_type = 'connection_check'")
    _request_types(*REQUEST_TYPES)
    op.drop_column("reports", "closed_at")
