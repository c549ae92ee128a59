"""A customer's rating is an entry of its request's sealed trail (kind `rated`, the rating
in a new nullable column, the comment as the entry's note), so the satisfaction the
utility publishes is as tamper-evident as the rest of the trail.

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-07 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0042"
down_revision: str | None = "0041"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS = ("assigned", "warned", "escalated")
_CHECK = "service_request_event_kind"


def _kinds(*kinds: str) -> None:
    taken = ", ".join(f"'{kind}'" for kind in kinds)
    op.drop_constraint(_CHECK, "service_request_events", type_="check")
    op.create_check_constraint(_CHECK, "service_request_events", f"kind IN ({taken})")


def upgrade() -> None:
    _kinds(*_KINDS, "rated")
    op.add_column("service_request_events", sa.Column("rating", sa.SmallInteger(), nullable=True))
    op.create_check_constraint(
        "ck_service_request_events_rating",
        "service_request_events",
        "(rating IS NULL) = (kind IS DISTINCT FROM 'rated')"
        " AND (rating IS NULL OR rating BETWEEN 1 AND 5)",
    )


def downgrade() -> None:
    if op.get_bind().scalar(
        sa.text("SELECT EXISTS (SELECT 1 FROM service_request_events WHERE kind = 'rated')")
    ):
        raise RuntimeError(
            "ratings are sealed in the requests' trails: a downgrade past 0042 would break "
            "the chain"
        )
    op.drop_constraint("ck_service_request_events_rating", "service_request_events", type_="check")
    op.drop_column("service_request_events", "rating")
    _kinds(*_KINDS)
