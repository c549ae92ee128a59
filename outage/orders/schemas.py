"""What switching orders look like at the HTTP boundary."""

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from outage.orders.enums import OrderState, StepAction, StepState

MAX_STEPS = 200


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


DeviceState = Literal["open", "closed"]


class StepIn(_Strict):
    action: StepAction
    asset_ref: Annotated[str, Field(min_length=1, max_length=200)]
    note: Annotated[str | None, Field(max_length=500)] = None
    expect: DeviceState | None = None
    """A verify step: the state the device must be in. Left out, it is the state the steps
    before leave the device in, on the network as it is when the order is drafted."""

    @model_validator(mode="after")
    def _expect_only_verify(self) -> Self:
        if self.expect is not None and self.action is not StepAction.VERIFY:
            raise ValueError("only a verify step says which state it expects")
        return self


def _check_window(start: datetime | None, end: datetime | None) -> None:
    if (start is None) != (end is None):
        raise ValueError("give both planned_start and planned_end, or neither")
    if start is not None and end is not None and end <= start:
        raise ValueError("planned_end must be after planned_start")


class OrderIn(_Strict):
    """A draft: its steps are carried out in the order given (position 1, 2, ...)."""

    title: Annotated[str, Field(min_length=1, max_length=200)]
    reason: Annotated[str | None, Field(max_length=2000)] = None
    steps: Annotated[list[StepIn], Field(min_length=1, max_length=MAX_STEPS)]
    allow_loops: bool = False
    """Closing a device between two energised parts (a parallel path) is allowed."""
    planned_start: AwareDatetime | None = None
    planned_end: AwareDatetime | None = None
    """A planned window: customers who would lose supply get the planned-outage notice."""
    incident_id: int | None = None
    crew_id: int | None = None
    """The crew that carries out the steps in the field and confirms them."""

    @model_validator(mode="after")
    def _window(self) -> Self:
        _check_window(self.planned_start, self.planned_end)
        return self


class ReturnToNormalIn(_Strict):
    """Which devices to return to normal; without `asset_refs`, every device an operator
    left out of its normal state."""

    asset_refs: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=200)]] | None,
        Field(min_length=1, max_length=MAX_STEPS),
    ] = None
    allow_loops: bool = False
    """Make before break: close first, then open, so nobody loses supply on the way."""
    title: Annotated[str | None, Field(min_length=1, max_length=200)] = None


class OrderPatch(_Strict):
    """A change to a draft; fields left out stay, `steps` replaces them all."""

    expected_version: int | None = None
    title: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    reason: Annotated[str | None, Field(max_length=2000)] = None
    steps: Annotated[list[StepIn] | None, Field(min_length=1, max_length=MAX_STEPS)] = None
    allow_loops: bool | None = None
    planned_start: AwareDatetime | None = None
    planned_end: AwareDatetime | None = None
    incident_id: int | None = None
    crew_id: int | None = None

    @model_validator(mode="after")
    def _window(self) -> Self:
        for name in ("title", "allow_loops"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        _check_window(self.planned_start, self.planned_end)
        return self


class Expected(_Strict):
    """The version the caller last read; a change since then is refused (409)."""

    expected_version: int | None = None


class ExecuteIn(Expected):
    by_hand: bool = False
    """The step was carried out in the field: record it, send SCADA nothing (a crew's
    confirmation always is)."""


class StepOut(BaseModel):
    position: int
    action: StepAction
    asset_ref: str
    note: str | None
    expect: DeviceState | None
    state: StepState
    commanded_at: datetime | None
    executed_at: datetime | None
    executed_by: str | None
    failed_at: datetime | None
    remark: str | None
    """Why the step failed, or what carrying it out found (the device already so)."""


class OrderOut(BaseModel):
    id: int
    title: str
    reason: str | None
    state: OrderState
    allow_loops: bool
    created_by: str
    approved_by: str | None
    approved_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    finished_by: str | None
    planned_start: datetime | None
    planned_end: datetime | None
    incident_id: int | None
    crew_id: int | None
    check: dict[str, Any]
    """The last check: customers interrupted and restored, critical customers, hazards,
    loops, per step and in total, and the refusals (`ok` when there are none)."""
    checked_at: datetime
    created_at: datetime
    version: int
    steps: list[StepOut]
