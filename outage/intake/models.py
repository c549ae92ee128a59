"""Tables of what reaches us: customer reports, smart-meter events and SCADA events, and
fault indications, and the count of wrong checks of a ticket's phone digits."""

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from outage import clock
from outage.db import Base, checked_enum
from outage.grid.regions import UNPLACED
from outage.intake.enums import (
    Channel,
    Hazard,
    MatchMethod,
    MeterEventKind,
    PingReason,
    PingState,
    ReportOutcome,
    ReportStatus,
    SwitchState,
)


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_geom", "geom", postgresql_using="gist"),
        Index("ix_reports_customer_received", "customer_id", "received_at"),
        Index("ix_reports_premise_received", "premise_id", "received_at"),
        Index(
            "ix_reports_agent_queue",
            "received_at",
            postgresql_where="status = 'needs_agent'",
        ),
        Index("ix_reports_closed_at", "closed_at", postgresql_where="status = 'closed'"),
        Index("ix_reports_substation_received", "substation_id", "received_at"),
        Index(
            "ix_reports_zalo_user_received",
            "zalo_user_id",
            "received_at",
            postgresql_where="zalo_user_id IS NOT NULL",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket: Mapped[str] = mapped_column(String(16), unique=True)
    service_code: Mapped[str] = mapped_column(String(40), default="outage")
    channel: Mapped[Channel] = mapped_column(checked_enum(Channel, "report_channel"))
    status: Mapped[ReportStatus] = mapped_column(checked_enum(ReportStatus, "report_status"))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )
    # What the reporter told us (untrusted text, escaped wherever it is shown).
    account_given: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    zalo_user_id: Mapped[str | None] = mapped_column(String(64))
    """The Zalo user who sent it to the utility's Official Account (the Zalo channel's
    contact: Zalo shows no phone number)."""
    address_given: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    hazard: Mapped[Hazard | None] = mapped_column(checked_enum(Hazard, "report_hazard"))
    geom: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=True
    )
    # Where we placed it on the network, and how sure we are.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    premise_id: Mapped[int | None] = mapped_column(ForeignKey("premises.id"))
    transformer_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    feeder_id: Mapped[int | None] = mapped_column(ForeignKey("feeders.id"))
    substation_id: Mapped[int] = mapped_column(Integer, default=UNPLACED)
    """Where the report was placed when it was filed (its premise's feeder's substation,
    else its feeder's, else `UNPLACED`): the key a region's reads filter on and the
    distribution key under Citus, so it never changes, not even when an agent places it."""
    match_method: Mapped[MatchMethod] = mapped_column(
        checked_enum(MatchMethod, "report_match_method")
    )
    match_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    candidates: Mapped[list[str]] = mapped_column(JSONB, default=list)
    """Premise refs an agent should choose from when the match was ambiguous."""
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", name="fk_reports_incident_id"), index=True
    )
    """The incident this report is evidence of, set by the incidents service."""
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the customer's supply came back, or the incident was found to be none."""
    outcome: Mapped[ReportOutcome | None] = mapped_column(
        checked_enum(ReportOutcome, "report_outcome")
    )
    """Why it closed without an outage (the meter had power); None otherwise."""
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64))


class ZaloEvent(Base):
    """A Zalo Official Account webhook event we acted on, once: Zalo retries an event it
    thinks undelivered, and the unique key turns the retry into nothing. Written in the
    transaction that files its report and queues its reply."""

    __tablename__ = "zalo_events"

    event_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    """The message's `msg_id`, or a hash of the event when it has none."""
    event_name: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """Zalo's timestamp of the event, not when it reached us."""
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("reports.id", name="fk_zalo_events_report_id"), index=True
    )
    """The report the event filed or, for an image, the report it came with."""
    image_url: Mapped[str | None] = mapped_column(Text)
    """Where Zalo holds the image the customer sent (never fetched here)."""


class MeterEvent(Base):
    """A smart meter's last gasp or power-restored message from the head-end."""

    __tablename__ = "meter_events"
    __table_args__ = (
        UniqueConstraint("meter_id", "kind", "occurred_at", name="uq_meter_events_once"),
        Index("ix_meter_events_premise_time", "premise_id", "occurred_at"),
        Index("ix_meter_events_received_at", "received_at"),
        Index("ix_meter_events_substation_time", "substation_id", "occurred_at"),
        Index("ix_meter_events_substation_received", "substation_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    meter_id: Mapped[str] = mapped_column(String(64))
    premise_id: Mapped[int] = mapped_column(ForeignKey("premises.id"))
    substation_id: Mapped[int] = mapped_column(Integer, default=UNPLACED)
    """The premise's substation when the event came (`UNPLACED` on no feeder): as a
    report's, the key of the region's reads and of Citus, never changed."""
    kind: Mapped[MeterEventKind] = mapped_column(checked_enum(MeterEventKind, "meter_event_kind"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )


class MeterPing(Base):
    """One meter asked by the head-end whether it has power, and its answer.

    The pending rows not yet sent are the outbox of pings (`outage.intake.pings`): they are
    written in the caller's transaction and sent afterwards by a job, so a crash between
    the two loses nothing. An answer "on" or "off" is stored as a meter event too
    (`meter_event_id`), which is how the engine sees it."""

    __tablename__ = "meter_pings"
    __table_args__ = (
        UniqueConstraint("request_id", "meter_id", name="uq_meter_pings_request_meter"),
        Index("ix_meter_pings_asked_at", "asked_at"),
        Index("ix_meter_pings_unsent", "asked_at", postgresql_where="sent_at IS NULL"),
        Index("ix_meter_pings_pending", "asked_at", postgresql_where="state = 'pending'"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64))
    """The head-end request the meter was asked in (at most the head-end's batch size)."""
    meter_id: Mapped[str] = mapped_column(String(64))
    premise_id: Mapped[int] = mapped_column(ForeignKey("premises.id"))
    reason: Mapped[PingReason] = mapped_column(checked_enum(PingReason, "meter_ping_reason"))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", name="fk_meter_pings_incident_id"), index=True
    )
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the head-end took the request; None while it waits in the outbox."""
    state: Mapped[PingState] = mapped_column(checked_enum(PingState, "meter_ping_state"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """The head-end's time of the answer, or when the wait for one ran out."""
    meter_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("meter_events.id", name="fk_meter_pings_meter_event_id")
    )
    """The meter event an "on" or "off" answer became."""


class ScadaEvent(Base):
    """A breaker or switch changing state, as SCADA saw it."""

    __tablename__ = "scada_events"
    __table_args__ = (
        UniqueConstraint("device_id", "state", "occurred_at", name="uq_scada_events_once"),
        Index("ix_scada_events_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    state: Mapped[SwitchState] = mapped_column(checked_enum(SwitchState, "scada_switch_state"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )
    cause: Mapped[str | None] = mapped_column(String(200))


class FaultIndication(Base):
    """A device or fault indicator that did, or did not, see fault current, as SCADA
    reported it: the fault lies below the first, not below the second."""

    __tablename__ = "fault_indications"
    __table_args__ = (
        UniqueConstraint(
            "device_id", "fault_passed", "occurred_at", name="uq_fault_indications_once"
        ),
        Index("ix_fault_indications_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    fault_passed: Mapped[bool] = mapped_column(Boolean)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )


class TicketGuess(Base):
    """Wrong `phone_last4` checks of one ticket (a report's or a request's) from one client
    address in the current window: shared by every process, and by address so a
    stranger's guesses do not lock the customer out."""

    __tablename__ = "ticket_guesses"

    ticket: Mapped[str] = mapped_column(String(16), primary_key=True)
    client: Mapped[str] = mapped_column(String(45), primary_key=True)
    wrong: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
