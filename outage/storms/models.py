"""Tables of storms: the storm declared, its regions' phases and restoration times, and the
trail of who changed what."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from outage import clock
from outage.db import Base, checked_enum
from outage.storms.enums import StormAction, StormPhase

_ETR_RANGE = "(etr IS NULL) = (etr_latest IS NULL) AND (etr IS NULL OR etr <= etr_latest)"


class Storm(Base):
    """A storm a supervisor declared; at most one is on at a time."""

    __tablename__ = "storms"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_storms"),
        CheckConstraint("level BETWEEN 1 AND 3", name="ck_storms_level"),
        CheckConstraint("ended_at IS NULL OR ended_at >= declared_at", name="ck_storms_ended"),
        CheckConstraint(_ETR_RANGE, name="ck_storms_etr"),
        Index(
            "uq_storms_one_on",
            text("(true)"),
            unique=True,
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(Integer)
    phase: Mapped[StormPhase] = mapped_column(checked_enum(StormPhase, "storm_phase"))
    """The phase of every region without one of its own."""
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    declared_by: Mapped[str] = mapped_column(Text)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    etr: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """The global restoration time: everyone the storm put out back by then (expected)."""
    etr_latest: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    """Moved by every change (`service.change`), so that one made on a stale read fails."""


class StormRegion(Base):
    """A region's own phase and restoration time within a storm: a substation's area."""

    __tablename__ = "storm_regions"
    __table_args__ = (
        PrimaryKeyConstraint("storm_id", "substation_id", name="pk_storm_regions"),
        ForeignKeyConstraint(["storm_id"], ["storms.id"], name="fk_storm_regions_storm_id"),
        ForeignKeyConstraint(
            ["substation_id"], ["substations.id"], name="fk_storm_regions_substation_id"
        ),
        CheckConstraint(_ETR_RANGE, name="ck_storm_regions_etr"),
    )

    storm_id: Mapped[int] = mapped_column(Integer)
    substation_id: Mapped[int] = mapped_column(Integer)
    phase: Mapped[StormPhase | None] = mapped_column(checked_enum(StormPhase, "storm_region_phase"))
    """None: the region follows the storm's phase (a row that only holds its time)."""
    etr: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    etr_latest: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StormEvent(Base):
    """The audit trail of a storm: declared, level and phases changed, times set, ended."""

    __tablename__ = "storm_events"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_storm_events"),
        ForeignKeyConstraint(["storm_id"], ["storms.id"], name="fk_storm_events_storm_id"),
        Index("ix_storm_events_storm_at", "storm_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger)
    storm_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[StormAction] = mapped_column(checked_enum(StormAction, "storm_event_action"))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
