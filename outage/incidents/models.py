"""Tables of incidents: the incident itself, the evidence behind it, and its audit trail."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.etr import EtrSource
from outage import clock
from outage.chained import Chained, chain_table_args
from outage.db import Base, checked_enum
from outage.incidents.enums import AuditAction, IncidentKind
from outage.incidents.lifecycle import ACTIVE, IncidentStatus
from outage.intake.enums import Hazard
from outage.storms.enums import EtrScope

ACTIVE_SQL = "status IN ({})".format(", ".join(f"'{s.value}'" for s in sorted(ACTIVE)))
"""The partial-index predicate of active incidents."""


class Incident(Base):
    """An outage or hazard on a device, a single premise (service drop), or nowhere yet.

    `version` counts changes for optimistic concurrency: the ORM checks it on every update
    and clients send it back as `expected_version`.
    """

    __tablename__ = "incidents"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_incidents"),
        ForeignKeyConstraint(["device_id"], ["devices.id"], name="fk_incidents_device_id"),
        ForeignKeyConstraint(["premise_id"], ["premises.id"], name="fk_incidents_premise_id"),
        ForeignKeyConstraint(["feeder_id"], ["feeders.id"], name="fk_incidents_feeder_id"),
        ForeignKeyConstraint(["parent_id"], ["incidents.id"], name="fk_incidents_parent_id"),
        ForeignKeyConstraint(
            ["merged_into_id"], ["incidents.id"], name="fk_incidents_merged_into_id"
        ),
        ForeignKeyConstraint(
            ["crew_id"],
            ["crews.id"],
            name="fk_incidents_crew_id",
            ondelete="RESTRICT",
            use_alter=True,
        ),
        CheckConstraint(
            "device_id IS NULL OR premise_id IS NULL", name="ck_incidents_device_or_premise"
        ),
        CheckConstraint("confidence BETWEEN 0 AND 1", name="ck_incidents_confidence"),
        CheckConstraint(
            "customers_restored BETWEEN 0 AND customers_affected", name="ck_incidents_customers"
        ),
        CheckConstraint(
            "(restored_at IS NOT NULL) = (status IN ('restored', 'closed'))",
            name="ck_incidents_restored_at",
        ),
        CheckConstraint(
            "restored_at IS NULL OR restored_at >= started_at",
            name="ck_incidents_restored_after_start",
        ),
        CheckConstraint("(etr IS NULL) = (etr_source IS NULL)", name="ck_incidents_etr_source"),
        CheckConstraint(
            "(etr_earliest IS NULL) = (etr_latest IS NULL) AND (etr_earliest IS NULL OR"
            " (etr IS NOT NULL AND etr_earliest <= etr AND etr <= etr_latest))",
            name="ck_incidents_etr_range",
        ),
        CheckConstraint(
            "merged_into_id IS NULL OR (status = 'cancelled' AND merged_into_id <> id)",
            name="ck_incidents_merged_cancelled",
        ),
        CheckConstraint("parent_id <> id", name="ck_incidents_not_own_parent"),
        Index("ix_incidents_active", "status", postgresql_where=text(ACTIVE_SQL)),
        Index("ix_incidents_feeder_id", "feeder_id"),
        Index("ix_incidents_device_id", "device_id"),
        Index("ix_incidents_parent_id", "parent_id"),
    )

    id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[IncidentKind] = mapped_column(checked_enum(IncidentKind, "incident_kind"))
    status: Mapped[IncidentStatus] = mapped_column(checked_enum(IncidentStatus, "incident_status"))
    device_id: Mapped[int | None] = mapped_column(Integer)
    premise_id: Mapped[int | None] = mapped_column(Integer)
    """A single-service outage: one customer's service drop or meter."""
    feeder_id: Mapped[int | None] = mapped_column(Integer)
    hazard: Mapped[Hazard | None] = mapped_column(checked_enum(Hazard, "incident_hazard"))
    confidence: Mapped[float] = mapped_column(Float)
    customers_affected: Mapped[int] = mapped_column(Integer)
    customers_restored: Mapped[int] = mapped_column(Integer, default=0)
    """Restored so far by partial restorations; all of them once restored."""
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    restored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    momentary: Mapped[bool] = mapped_column(Boolean, default=False)
    """Restored within 5 minutes (IEEE 1366): counts in MAIFI, not in SAIFI/SAIDI."""
    parent_id: Mapped[int | None] = mapped_column(Integer)
    """The incident this one is nested in (a fault downstream inside a larger outage)."""
    merged_into_id: Mapped[int | None] = mapped_column(Integer)
    cause: Mapped[str | None] = mapped_column(Text)
    etr: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    etr_source: Mapped[EtrSource | None] = mapped_column(
        checked_enum(EtrSource, "incident_etr_source")
    )
    etr_earliest: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """With `etr_latest`, the range the restoration likely falls in (`dispatch.etr`): only
    for an estimated ETR; a crew's or a dispatcher's own time has none."""
    etr_latest: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    etr_scope: Mapped[EtrScope] = mapped_column(
        checked_enum(EtrScope, "incident_etr_scope", length=10),
        default=EtrScope.OUTAGE,
        server_default=EtrScope.OUTAGE.value,
    )
    """Whose time `etr` is: the outage's own, or in a storm's global or regional phase the
    storm's or its area's, told to its customers (`outage.storms`)."""
    placed_by: Mapped[str | None] = mapped_column(String(200))
    """The dispatcher who moved, split, merged or created it: a place a person chose,
    which the engine no longer moves, merges away or cancels (None: the engine's)."""
    crew_id: Mapped[int | None] = mapped_column(Integer)
    """A crew that worked an incident stays (the record); the key is added after both
    tables exist (`use_alter`), as crews point back here for help calls."""
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012


class IncidentEvidence(Base):
    """One report, meter event or SCADA event supporting an incident."""

    __tablename__ = "incident_evidence"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_incident_evidence"),
        ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_incident_evidence_incident_id"
        ),
        ForeignKeyConstraint(["report_id"], ["reports.id"], name="fk_incident_evidence_report_id"),
        ForeignKeyConstraint(
            ["meter_event_id"], ["meter_events.id"], name="fk_incident_evidence_meter_event_id"
        ),
        ForeignKeyConstraint(
            ["scada_event_id"], ["scada_events.id"], name="fk_incident_evidence_scada_event_id"
        ),
        CheckConstraint(
            "num_nonnulls(report_id, meter_event_id, scada_event_id) = 1",
            name="ck_incident_evidence_one_source",
        ),
        UniqueConstraint("incident_id", "report_id", name="uq_incident_evidence_report"),
        UniqueConstraint("incident_id", "meter_event_id", name="uq_incident_evidence_meter_event"),
        UniqueConstraint("incident_id", "scada_event_id", name="uq_incident_evidence_scada_event"),
        Index("ix_incident_evidence_meter_event_id", "meter_event_id"),
        Index("ix_incident_evidence_scada_event_id", "scada_event_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger)
    incident_id: Mapped[int] = mapped_column(Integer)
    report_id: Mapped[int | None] = mapped_column(BigInteger)
    meter_event_id: Mapped[int | None] = mapped_column(BigInteger)
    scada_event_id: Mapped[int | None] = mapped_column(BigInteger)
    added_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )


class IncidentEvent(Chained, Base):
    """The audit trail: who did what to an incident, when and why. Never edited: a
    correction is a new event; sealed into a chain (`outage.ledger`)."""

    __tablename__ = "incident_events"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_incident_events"),
        ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_incident_events_incident_id"
        ),
        Index("ix_incident_events_incident_at", "incident_id", "at"),
        *chain_table_args("incident_events"),
    )

    id: Mapped[int] = mapped_column(BigInteger)
    incident_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[AuditAction] = mapped_column(checked_enum(AuditAction, "incident_event_action"))
    from_status: Mapped[IncidentStatus | None] = mapped_column(
        checked_enum(IncidentStatus, "incident_event_from_status")
    )
    to_status: Mapped[IncidentStatus | None] = mapped_column(
        checked_enum(IncidentStatus, "incident_event_to_status")
    )
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class Interruption(Base):
    """One customer's finished interruption by one outage, as `interruptions_of` makes it
    from the trail; written by the change that ends it (`outage.incidents.recorded`),
    keyed by the incident alone so restorations write theirs without waiting for others."""

    __tablename__ = "interruptions"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_interruptions"),
        ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name="fk_interruptions_incident_id",
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_interruptions_customer_id",
            ondelete="CASCADE",
        ),
        CheckConstraint('"end" >= start', name="ck_interruptions_end_after_start"),
        Index("ix_interruptions_incident_id", "incident_id"),
        Index("ix_interruptions_customer_id_start", "customer_id", "start"),
    )

    id: Mapped[int] = mapped_column(BigInteger)
    incident_id: Mapped[int] = mapped_column(Integer)
    incident_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """When the incident began: a report loads the records of the outages begun before its
    end, as the derivation does."""
    customer_id: Mapped[int] = mapped_column(Integer)
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    planned: Mapped[bool] = mapped_column(Boolean)


class RecordedIncident(Base):
    """An incident whose records are stored (none, for one that made none): the others
    restored before the upgrade are stored by the backfill, and derived by reports until
    then (`outage.incidents.recorded`)."""

    __tablename__ = "recorded_incidents"
    __table_args__ = (
        PrimaryKeyConstraint("incident_id", name="pk_recorded_incidents"),
        ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name="fk_recorded_incidents_incident_id",
            ondelete="CASCADE",
        ),
    )

    incident_id: Mapped[int] = mapped_column(Integer)


class SpellsDue(Base):
    """A customer whose records changed since their spells were last written: the spells
    job writes them again (`outage.incidents.recorded.fold`), and reports count such a
    customer from the records meanwhile. No key on the customer, so writers never wait."""

    __tablename__ = "interruption_spells_due"
    __table_args__ = (PrimaryKeyConstraint("id", name="pk_interruption_spells_due"),)

    id: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[int] = mapped_column(Integer)


class InterruptionSpell(Base):
    """A customer's continuous loss of supply: the customer's stored interruptions that
    overlap or touch, merged (`merge_overlaps`), with the incident and planned mark of the
    first. What the reports count, one narrow row per interruption, read by binary COPY."""

    __tablename__ = "interruption_spells"
    __table_args__ = (
        PrimaryKeyConstraint("customer_id", "start", name="pk_interruption_spells"),
        Index("ix_interruption_spells_start", "start"),
        Index("ix_interruption_spells_end", "end"),
    )

    customer_id: Mapped[int] = mapped_column(Integer)
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    incident_id: Mapped[int] = mapped_column(Integer)
    planned: Mapped[bool] = mapped_column(Boolean)


class InterruptionSpellPack(Base):
    """A customer's spells packed into one row: each spell's start, end, incident and
    planned mark as binary COPY sends those columns (big-endian microseconds since
    2000-01-01 UTC, a 4-byte id, a byte), in order of start. The spells job writes it from
    the customer's spells, in the same transaction (`pack`).

    Why both: a report of a long period reads nearly every spell, and a million packed rows
    are sent in a fraction of the time of five million narrow ones; what selects spells by
    time (a short period, a period's days, a spell reaching past a period's end) reads the
    spells through their indexes. `interruption_spells` is the source: these rows are made
    from it and nothing else."""

    __tablename__ = "interruption_spell_packs"
    __table_args__ = (PrimaryKeyConstraint("customer_id", name="pk_interruption_spell_packs"),)

    customer_id: Mapped[int] = mapped_column(Integer)
    spells: Mapped[bytes] = mapped_column(LargeBinary)


class InterruptionTotal(Base):
    """The system's unplanned sustained customer interruptions and their length, of the
    spells begun at one instant: summed by day in the report's time zone, the daily SAIDI
    the Major Event Day threshold stands on."""

    __tablename__ = "interruption_totals"
    __table_args__ = (PrimaryKeyConstraint("began_at", name="pk_interruption_totals"),)

    began_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    customer_us: Mapped[int] = mapped_column(BigInteger)
    """Customer microseconds without supply: whole numbers, so the totals kept by adding
    and taking away stay exact."""
    interruptions: Mapped[int] = mapped_column(Integer)
