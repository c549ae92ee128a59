"""The outbox's table (`notification_events`, named for the notifications that read it)."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from outage import clock
from outage.db import Base, checked_enum
from outage.outbox.enums import EventKind


class NotificationEvent(Base):
    """The outbox: one row per thing customers must be told, written in the transaction
    that changed its subject (an incident, a planned outage, a service request or a
    report); workers
    fan it out to messages."""

    __tablename__ = "notification_events"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_notification_events"),
        ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_notification_events_incident_id"
        ),
        ForeignKeyConstraint(
            ["planned_outage_id"],
            ["planned_outages.id"],
            name="fk_notification_events_planned_outage_id",
        ),
        ForeignKeyConstraint(
            ["service_request_id"],
            ["service_requests.id"],
            name="fk_notification_events_service_request_id",
        ),
        ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name="fk_notification_events_report_id"
        ),
        ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name="fk_notification_events_device_id"
        ),
        ForeignKeyConstraint(
            ["premise_id"], ["premises.id"], name="fk_notification_events_premise_id"
        ),
        CheckConstraint(
            "num_nonnulls(incident_id, planned_outage_id, service_request_id, report_id) = 1",
            name="ck_notification_events_one_subject",
        ),
        Index(
            "ix_notification_events_unexpanded",
            "id",
            postgresql_where=text("expanded_at IS NULL"),
        ),
        Index("ix_notification_events_incident_id", "incident_id"),
        Index("ix_notification_events_service_request_id", "service_request_id"),
        Index("ix_notification_events_report_id", "report_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[EventKind] = mapped_column(checked_enum(EventKind, "notification_event_kind"))
    incident_id: Mapped[int | None] = mapped_column(Integer)
    planned_outage_id: Mapped[int | None] = mapped_column(Integer)
    service_request_id: Mapped[int | None] = mapped_column(BigInteger)
    """A service request: its requester is told (not the customers of a place)."""
    report_id: Mapped[int | None] = mapped_column(BigInteger)
    """A report: the one who filed it is told, on the channel they used (at most one event
    a report)."""
    device_id: Mapped[int | None] = mapped_column(Integer)
    """Customers downstream of this device are told (None: those at `premise_id`)."""
    premise_id: Mapped[int | None] = mapped_column(Integer)
    accounts: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    """When set, exactly these customers are told, whatever the device or premise says:
    those a switching step gave supply again, who are no longer below any one device."""
    safety: Mapped[bool] = mapped_column(Boolean, default=False)
    """A hazard: told through quiet hours and opt-outs."""
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    """What the message says, as of the change: etr, window, revision."""
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )
    expanded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recipients: Mapped[int | None] = mapped_column(Integer)
    """Messages written when it was fanned out, and waiting ones that took its news."""
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    """Fan-outs that failed; after `notify_max_attempts` the event is dead-lettered."""
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """After a failure, not before this (None: at once)."""
    last_error: Mapped[str | None] = mapped_column(Text)
    dead_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Given up on, with `last_error` as the reason: it no longer holds back its subject's
    later events."""
