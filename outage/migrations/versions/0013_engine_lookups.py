"""Indexes for the engine's cycle: telemetry by arrival (a late batch is read by when it
came, whatever its own time) and incident evidence by SCADA or meter event (an interval
whose opening event is evidence of an incident is known).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_scada_events_received_at", "scada_events", ["received_at"])
    op.create_index("ix_meter_events_received_at", "meter_events", ["received_at"])
    op.create_index("ix_incident_evidence_scada_event_id", "incident_evidence", ["scada_event_id"])
    op.create_index("ix_incident_evidence_meter_event_id", "incident_evidence", ["meter_event_id"])


def downgrade() -> None:
    op.drop_index("ix_incident_evidence_meter_event_id", table_name="incident_evidence")
    op.drop_index("ix_incident_evidence_scada_event_id", table_name="incident_evidence")
    op.drop_index("ix_meter_events_received_at", table_name="meter_events")
    op.drop_index("ix_scada_events_received_at", table_name="scada_events")
