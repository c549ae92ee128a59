"""Tables of crews and dispatch: crews, their shifts and positions, pins, and the plans made.

A crew's members are the staff users whose `crew_id` names it (`outage.auth.models`).
"""

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.model import CrewStatus, Method, Skill, UnassignedReason
from dispatch.priority import Tier
from outage import clock
from outage.crews.enums import Access, CrewOrigin
from outage.db import Base, checked_enum


def _point() -> Geometry:
    """A type of its own per column: GeoAlchemy2 writes the column's nullability into it."""
    return Geometry("POINT", srid=4326, spatial_index=False)


SKILLS_SQL = "skills <@ ARRAY[{}]::varchar[]".format(", ".join(f"'{s.value}'" for s in Skill))


class Crew(Base):
    """A field crew: its skills, depot, vehicle, status and where it was seen last."""

    __tablename__ = "crews"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_crews"),
        UniqueConstraint("name", name="uq_crews_name"),
        CheckConstraint(SKILLS_SQL, name="ck_crews_skills"),
        CheckConstraint("(position IS NULL) = (position_at IS NULL)", name="ck_crews_position_at"),
        CheckConstraint(
            "help_requested_at IS NOT NULL OR (help_incident_id IS NULL AND help_note IS NULL)",
            name="ck_crews_help",
        ),
        ForeignKeyConstraint(
            ["help_incident_id"], ["incidents.id"], name="fk_crews_help_incident_id"
        ),
        CheckConstraint(
            "released_at IS NULL OR arrives_at IS NULL OR released_at > arrives_at",
            name="ck_crews_release_after_arrival",
        ),
    )

    id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    skills: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    depot: Mapped[Any] = mapped_column(_point())
    vehicle: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[CrewStatus] = mapped_column(checked_enum(CrewStatus, "crew_status"))
    position: Mapped[Any] = mapped_column(_point(), nullable=True)
    """The newest position received (also kept in `crew_positions`)."""
    position_accuracy_m: Mapped[float | None] = mapped_column(Float)
    position_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    help_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """The crew asked for help (from the crew page); cleared by a dispatcher."""
    help_incident_id: Mapped[int | None] = mapped_column(Integer)
    help_note: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[CrewOrigin] = mapped_column(
        checked_enum(CrewOrigin, "crew_origin"), server_default=CrewOrigin.OWN.value
    )
    organisation: Mapped[str | None] = mapped_column(String(200))
    """The utility that lent the crew, or the contractor."""
    arrives_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """A crew from elsewhere is planned from then on (None: here already)."""
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Sent home after the storm: never planned from then on."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class CrewShift(Base):
    """A window in which a crew works; it starts no job after the end."""

    __tablename__ = "crew_shifts"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_crew_shifts"),
        ForeignKeyConstraint(
            ["crew_id"], ["crews.id"], name="fk_crew_shifts_crew_id", ondelete="CASCADE"
        ),
        CheckConstraint("ends_at > starts_at", name="ck_crew_shifts_order"),
        Index("ix_crew_shifts_crew_id_ends_at", "crew_id", "ends_at"),
    )

    id: Mapped[int] = mapped_column(Integer)
    crew_id: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CrewPosition(Base):
    """Every position a crew sent: the track the dispatcher map can replay."""

    __tablename__ = "crew_positions"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_crew_positions"),
        ForeignKeyConstraint(
            ["crew_id"], ["crews.id"], name="fk_crew_positions_crew_id", ondelete="CASCADE"
        ),
        CheckConstraint("accuracy_m IS NULL OR accuracy_m >= 0", name="ck_crew_positions_accuracy"),
        Index("ix_crew_positions_crew_id_recorded_at", "crew_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger)
    crew_id: Mapped[int] = mapped_column(Integer)
    geom: Mapped[Any] = mapped_column(_point())
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )


class DispatchPin(Base):
    """The dispatcher's word: this incident goes to this crew (at this place in its route)."""

    __tablename__ = "dispatch_pins"
    __table_args__ = (
        PrimaryKeyConstraint("incident_id", name="pk_dispatch_pins"),
        ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_dispatch_pins_incident_id"
        ),
        ForeignKeyConstraint(
            ["crew_id"], ["crews.id"], name="fk_dispatch_pins_crew_id", ondelete="CASCADE"
        ),
        CheckConstraint("position IS NULL OR position >= 1", name="ck_dispatch_pins_position"),
    )

    incident_id: Mapped[int] = mapped_column(Integer)
    crew_id: Mapped[int] = mapped_column(Integer)
    position: Mapped[int | None] = mapped_column(Integer)
    """1 first; None: anywhere on the crew's route."""
    pinned_by: Mapped[str] = mapped_column(Text)
    pinned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DispatchPlan(Base):
    """One run of the planner, with its figures and the greedy rule's for comparison."""

    __tablename__ = "dispatch_plans"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_dispatch_plans"),
        Index("ix_dispatch_plans_made_at", "made_at"),
    )

    id: Mapped[int] = mapped_column(Integer)
    made_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    made_by: Mapped[str] = mapped_column(Text)
    method: Mapped[Method] = mapped_column(checked_enum(Method, "dispatch_plan_method"))
    objective: Mapped[float] = mapped_column(Float)
    cmi: Mapped[float] = mapped_column(Float)
    greedy_objective: Mapped[float] = mapped_column(Float)
    greedy_cmi: Mapped[float] = mapped_column(Float)
    solve_s: Mapped[float] = mapped_column(Float)
    storm: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    """Of what the plan was made from: the next run skips when nothing changed."""


class DispatchPlanJob(Base):
    """One incident in a plan: its crew and place in the route, or why nobody has it."""

    __tablename__ = "dispatch_plan_jobs"
    __table_args__ = (
        PrimaryKeyConstraint("plan_id", "incident_id", name="pk_dispatch_plan_jobs"),
        ForeignKeyConstraint(
            ["plan_id"],
            ["dispatch_plans.id"],
            name="fk_dispatch_plan_jobs_plan_id",
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_dispatch_plan_jobs_incident_id"
        ),
        ForeignKeyConstraint(
            ["crew_id"], ["crews.id"], name="fk_dispatch_plan_jobs_crew_id", ondelete="CASCADE"
        ),
        CheckConstraint(
            "(crew_id IS NULL) = (unassigned_reason IS NOT NULL)",
            name="ck_dispatch_plan_jobs_crew_or_reason",
        ),
        CheckConstraint(
            "(crew_id IS NULL) = (sequence IS NULL AND arrival IS NULL AND start IS NULL "
            "AND finish IS NULL AND travel_s IS NULL)",
            name="ck_dispatch_plan_jobs_visit",
        ),
        Index("ix_dispatch_plan_jobs_crew_id", "crew_id"),
        Index("ix_dispatch_plan_jobs_incident_id", "incident_id"),
    )

    plan_id: Mapped[int] = mapped_column(Integer)
    incident_id: Mapped[int] = mapped_column(Integer)
    crew_id: Mapped[int | None] = mapped_column(Integer)
    sequence: Mapped[int | None] = mapped_column(Integer)
    """1 for the crew's first job."""
    arrival: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finish: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    travel_s: Mapped[int | None] = mapped_column(Integer)
    tier: Mapped[Tier] = mapped_column(checked_enum(Tier, "dispatch_plan_job_tier"))
    weight: Mapped[int] = mapped_column(Integer)
    critical: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    """The kinds of the critical customers out."""
    pinned: Mapped[bool] = mapped_column(Boolean)
    etr: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """The estimate for customers (the cautious one), whatever the incident's ETR now is."""
    unassigned_reason: Mapped[UnassignedReason | None] = mapped_column(
        Enum(
            UnassignedReason,
            name="dispatch_plan_job_reason",
            native_enum=False,
            create_constraint=True,
            length=40,
            values_callable=lambda members: [m.value for m in members],
        )
    )
    """Longer names than `checked_enum`'s 20 characters."""
    detail: Mapped[str | None] = mapped_column(Text)


DAMAGE_LIMITS = {
    "poles_down": 500,
    "spans_down": 1000,
    "transformers_damaged": 200,
    "trees_on_line": 500,
}
"""The most of each a single assessment may count: beyond is a typing mistake."""
MAX_HOURS_NEEDED = 500
"""Crew-hours of work one assessment may ask for (a month of a crew's storm shifts)."""


class DamageAssessment(Base):
    """What an assessor or crew found at a place before repair: the damage, how to get
    there, who must come and for how long. The newest on an incident sizes its job."""

    __tablename__ = "damage_assessments"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_damage_assessments"),
        UniqueConstraint("idempotency_key", name="uq_damage_assessments_idempotency_key"),
        ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_damage_assessments_incident_id"
        ),
        ForeignKeyConstraint(
            ["crew_id"], ["crews.id"], name="fk_damage_assessments_crew_id", ondelete="SET NULL"
        ),
        CheckConstraint(
            "incident_id IS NOT NULL OR location IS NOT NULL",
            name="ck_damage_assessments_place",
        ),
        *(
            CheckConstraint(
                f"{column} BETWEEN 0 AND {most}", name=f"ck_damage_assessments_{column}"
            )
            for column, most in DAMAGE_LIMITS.items()
        ),
        CheckConstraint(
            f"hours_needed > 0 AND hours_needed <= {MAX_HOURS_NEEDED}",
            name="ck_damage_assessments_hours_needed",
        ),
        Index("ix_damage_assessments_incident_id_assessed_at", "incident_id", "assessed_at"),
    )

    id: Mapped[int] = mapped_column(Integer)
    incident_id: Mapped[int | None] = mapped_column(Integer)
    """None: damage where no incident is yet (the location says where)."""
    crew_id: Mapped[int | None] = mapped_column(Integer)
    reported_by: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    """The sender's key: a retried post finds the first row instead of adding one."""
    assessed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """When the damage was assessed (the phone's time), not when the report arrived."""
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )
    location: Mapped[Any] = mapped_column(_point(), nullable=True)
    poles_down: Mapped[int] = mapped_column(Integer)
    spans_down: Mapped[int] = mapped_column(Integer)
    """Wire spans down."""
    transformers_damaged: Mapped[int] = mapped_column(Integer)
    trees_on_line: Mapped[int] = mapped_column(Integer)
    access: Mapped[Access] = mapped_column(checked_enum(Access, "damage_access"))
    crew_type_needed: Mapped[Skill] = mapped_column(checked_enum(Skill, "damage_crew_type"))
    hours_needed: Mapped[float] = mapped_column(Float)
    """Crew-hours of work for one crew."""
    note: Mapped[str | None] = mapped_column(Text)
