"""Care teams own service requests; late work is warned of and escalated, each once.

Every request is given to a team (the existing ones to the default team, `customer-care`,
seeded here); the trail gains the kind of entry and the owner it names. The trail's new
columns are nullable with no default: its rows are sealed, and a NULL is left out of a
seal, so the rows sealed before them keep their seals. No trail row is changed.

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-07 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0041"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_TEAM = "customer-care"
OPEN_SQL = "state IN ('received', 'in_progress', 'waiting_for_customer')"


def upgrade() -> None:
    op.create_table(
        "care_teams",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("supervisor", sa.String(64), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.UniqueConstraint("name", name="uq_care_teams_name"),
    )
    op.create_table(
        "care_team_members",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "team_id",
            sa.BigInteger(),
            sa.ForeignKey("care_teams.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("username", sa.String(64), nullable=False),
        sa.UniqueConstraint("team_id", "username", name="uq_care_team_members"),
    )
    op.create_index(
        "ix_care_team_members_username", "care_team_members", ["username"], unique=False
    )
    op.execute(
        sa.text("INSERT INTO care_teams (name) VALUES (:name)").bindparams(name=DEFAULT_TEAM)
    )

    op.add_column("service_requests", sa.Column("owner_team_id", sa.BigInteger(), nullable=True))
    op.execute(
        sa.text(
            "UPDATE service_requests SET owner_team_id = "
            "(SELECT id FROM care_teams WHERE name = :name)"
        ).bindparams(name=DEFAULT_TEAM)
    )
    op.alter_column("service_requests", "owner_team_id", nullable=False)
    op.create_foreign_key(
        "fk_service_requests_owner_team_id",
        "service_requests",
        "care_teams",
        ["owner_team_id"],
        ["id"],
    )
    op.add_column("service_requests", sa.Column("owner_agent", sa.String(64), nullable=True))
    op.add_column(
        "service_requests", sa.Column("warned_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "service_requests", sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "ix_service_requests_team_due",
        "service_requests",
        ["owner_team_id", "due_at"],
        unique=False,
        postgresql_where=sa.text(OPEN_SQL),
    )

    # The sealed trail: nullable columns, no default, no row touched.
    op.add_column(
        "service_request_events",
        sa.Column(
            "kind",
            sa.Enum(
                "assigned",
                "warned",
                "escalated",
                name="service_request_event_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
    )
    op.add_column("service_request_events", sa.Column("owner_team", sa.Text(), nullable=True))
    op.add_column("service_request_events", sa.Column("owner_agent", sa.Text(), nullable=True))


def downgrade() -> None:
    sealed = op.get_bind().scalar(
        sa.text(
            "SELECT EXISTS (SELECT 1 FROM service_request_events WHERE chain_seq IS NOT NULL"
            " AND (kind IS NOT NULL OR owner_team IS NOT NULL OR owner_agent IS NOT NULL))"
        )
    )
    if sealed:
        raise RuntimeError(
            "service request events sealed with an owner or an escalation would lose what "
            "their seals cover: a downgrade past 0041 would break the chain"
        )
    op.drop_column("service_request_events", "owner_agent")
    op.drop_column("service_request_events", "owner_team")
    op.drop_column("service_request_events", "kind")
    op.drop_index("ix_service_requests_team_due", table_name="service_requests")
    op.drop_column("service_requests", "escalated_at")
    op.drop_column("service_requests", "warned_at")
    op.drop_column("service_requests", "owner_agent")
    op.drop_constraint("fk_service_requests_owner_team_id", "service_requests", type_="foreignkey")
    op.drop_column("service_requests", "owner_team_id")
    op.drop_index("ix_care_team_members_username", table_name="care_team_members")
    op.drop_table("care_team_members")
    op.drop_table("care_teams")
