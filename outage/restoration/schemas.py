"""What restoration plans look like at the HTTP boundary."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from outage.orders.enums import StepAction
from outage.orders.schemas import OrderOut
from outage.restoration.enums import HealingOutcome


class NetworkVersion(BaseModel):
    """The version of the network a plan was computed on (`outage.grid.switching.versions`)."""

    model_config = ConfigDict(extra="forbid")

    switch: int
    structure: int


class PlanStepOut(BaseModel):
    position: int
    asset_ref: str
    action: StepAction
    remote: bool
    """Remote-controlled: SCADA operates it; otherwise a crew goes there."""
    at_seconds: float
    """When the step is done, counted from the start of the plan."""
    customers_restored: int
    """Customers back on supply with this step."""


class PlanOut(BaseModel):
    rank: int
    steps: list[PlanStepOut]
    customers_restored: int
    critical_restored: int
    customers_left_out: int
    """Still without supply at the end, the faulted sections' customers included."""
    customer_minutes_saved: float
    duration_seconds: float
    all_remote: bool
    radial: bool
    peak_loading: float
    """Highest share of its rating a checked line or transformer carries at the end."""
    most_loaded: str | None


class SelfHealingOut(BaseModel):
    """What self-healing did with the incident when it looked at it."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    outcome: HealingOutcome
    order_id: int | None
    """The order it started."""
    reason: str | None
    """Why it started none."""


class PlansOut(BaseModel):
    incident_id: int
    network_version: NetworkVersion
    operated: list[str]
    """Protective devices that opened on the fault (reclosing one is a plan's step)."""
    faulted: list[str]
    """Nodes of the sections the plans isolate: where the fault may be."""
    customers_out: int
    """The incident's customers without supply now."""
    plans: list[PlanOut]
    """Best first: most customers back, then most customer-minutes saved."""
    self_healing: SelfHealingOut | None = None
    """What self-healing did with the incident; None: it never looked at it."""


class PlanOrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    network_version: NetworkVersion
    """The version the plans were read on: a network changed since is refused (409)."""


class PlanOrderOut(BaseModel):
    order: OrderOut
    created: bool
    """False: the same plan was asked for before and this is its order."""
