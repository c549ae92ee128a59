"""The orders drafted from restoration plans (which plan, on which network version), and
what self-healing did with each incident it looked at."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from outage import clock
from outage.db import Base, checked_enum
from outage.restoration.enums import HealingOutcome


class RestorationOrder(Base):
    """A switching order drafted from the plan ranked `rank` for an incident on one
    version of the network. The plan's key is unique, so asking for the same plan again
    answers the same order: nothing is drafted, let alone carried out, twice."""

    __tablename__ = "restoration_orders"
    __table_args__ = (
        UniqueConstraint(
            "incident_id",
            "structure_version",
            "switch_version",
            "rank",
            name="uq_restoration_orders_plan",
        ),
        CheckConstraint("rank >= 1", name="ck_restoration_orders_rank"),
        Index("ix_restoration_orders_incident_id", "incident_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    order_id: Mapped[int] = mapped_column(
        ForeignKey("switching_orders.id", ondelete="CASCADE"), unique=True
    )
    rank: Mapped[int] = mapped_column(Integer)
    structure_version: Mapped[int] = mapped_column(BigInteger)
    switch_version: Mapped[int] = mapped_column(BigInteger)
    automatic: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    """Drafted and approved by the system (self-healing), not by a dispatcher."""
    normal_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("switching_orders.id", ondelete="SET NULL")
    )
    """The return-to-normal order drafted after the repair, for the devices this order
    moved away from normal."""
    normal_considered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the repair was seen and the return to normal drafted (or found not needed):
    it is drafted once."""
    normal_refusal: Mapped[str | None] = mapped_column(Text)
    """Why the last try at drafting the return to normal failed: logged when it changes,
    not on every run."""
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )


class HealingAttempt(Base):
    """Self-healing looked at this incident: when, what it did and why. Each incident is
    looked at once, so one it cannot plan is not planned again every run, and the
    dispatcher reads here why nothing was done automatically."""

    __tablename__ = "healing_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), unique=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[HealingOutcome] = mapped_column(checked_enum(HealingOutcome, "healing_outcome"))
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("switching_orders.id", ondelete="SET NULL")
    )
    """The order started (outcome `started`)."""
    reason: Mapped[str | None] = mapped_column(Text)
    """Why nothing was started, as the refusal said it."""
