"""Tables of switching orders: the order and its steps."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
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
from outage.orders.enums import OrderState, StepAction, StepState

FK_INCIDENT = "fk_switching_orders_incident_id"
FK_CREW = "fk_switching_orders_crew_id"


class SwitchingOrder(Base):
    """A sequence of steps a dispatcher drafts, a second person approves, and SCADA or a
    crew carries out. `version` counts changes for optimistic concurrency: the ORM checks
    it on every update and clients may send it back as `expected_version`."""

    __tablename__ = "switching_orders"
    __table_args__ = (
        CheckConstraint(
            "planned_end IS NULL OR planned_end > planned_start", name="ck_switching_orders_window"
        ),
        CheckConstraint(
            "(planned_start IS NULL) = (planned_end IS NULL)",
            name="ck_switching_orders_window_both",
        ),
        Index("ix_switching_orders_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    state: Mapped[OrderState] = mapped_column(checked_enum(OrderState, "switching_order_state"))
    allow_loops: Mapped[bool] = mapped_column(Boolean, default=False)
    """Closing a device between two energised parts (a parallel path) is allowed."""
    created_by: Mapped[str] = mapped_column(String(200))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When it was completed or aborted."""
    finished_by: Mapped[str | None] = mapped_column(String(200))
    planned_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    planned_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", name=FK_INCIDENT), index=True
    )
    crew_id: Mapped[int | None] = mapped_column(ForeignKey("crews.id", name=FK_CREW), index=True)
    """The crew that carries out the steps in the field and confirms them."""
    checked: Mapped[dict[str, Any]] = mapped_column(JSONB)
    """The last check's figures (`outage.orders.simulation`), as of `checked_at`."""
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class SwitchingStep(Base):
    """One step of an order, carried out strictly after the one before it."""

    __tablename__ = "switching_steps"
    __table_args__ = (
        UniqueConstraint("order_id", "position", name="uq_switching_steps_position"),
        CheckConstraint("position >= 1", name="ck_switching_steps_position"),
        CheckConstraint(
            "(state = 'done') = (executed_at IS NOT NULL)", name="ck_switching_steps_executed"
        ),
        CheckConstraint(
            "(state = 'failed') = (failed_at IS NOT NULL)", name="ck_switching_steps_failed"
        ),
        CheckConstraint(
            "expect_open IS NULL OR action = 'verify'", name="ck_switching_steps_expect"
        ),
        Index("ix_switching_steps_device_id", "device_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("switching_orders.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    """1, 2, ...: the order the steps are carried out in."""
    action: Mapped[StepAction] = mapped_column(checked_enum(StepAction, "switching_step_action"))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    note: Mapped[str | None] = mapped_column(Text)
    expect_open: Mapped[bool | None] = mapped_column(Boolean)
    """A verify step: whether the device must be open (True) or closed (False)."""
    state: Mapped[StepState] = mapped_column(checked_enum(StepState, "switching_step_state"))
    commanded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the latest command was sent to SCADA."""
    commands: Mapped[int] = mapped_column(Integer, default=0)
    """Commands sent to SCADA for this step: a retry is a new command, with an id of its own."""
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the command's time for confirmation ran out."""
    remark: Mapped[str | None] = mapped_column(Text)
    """Why the step failed, or what carrying it out found (the device already so)."""
    executed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    executed_by: Mapped[str | None] = mapped_column(String(200))
    planned_outage_id: Mapped[int | None] = mapped_column(ForeignKey("planned_outages.id"))
    """The planned outage whose notice tells the customers this opening interrupts."""
