"""What crews and the dispatch plan look like over HTTP: request bodies and answers."""

import itertools
from datetime import datetime, timedelta
from typing import Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from dispatch.etr import EtrSource
from dispatch.model import CrewStatus, Method, Skill, UnassignedReason
from dispatch.priority import Tier
from outage.crews.enums import Access, CrewOrigin
from outage.crews.models import DAMAGE_LIMITS, MAX_HOURS_NEEDED
from outage.fields import Latitude, Longitude
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.schemas import DeviceRef
from outage.intake.enums import Hazard

MAX_SHIFT = timedelta(hours=48)
"""Longer is a typing mistake, not a shift (storm shifts run to 16 hours)."""

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class Point(BaseModel):
    model_config = _STRICT

    lat: Latitude
    lon: Longitude


class ShiftIn(BaseModel):
    model_config = _STRICT

    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("a shift must end after it starts")
        if self.ends_at - self.starts_at > MAX_SHIFT:
            raise ValueError(f"a shift may last at most {MAX_SHIFT.total_seconds() / 3600:g} hours")
        return self


def _distinct(skills: list[Skill] | None) -> list[Skill] | None:
    if skills is not None and len(set(skills)) != len(skills):
        raise ValueError("each skill once")
    return skills


def _no_overlap(shifts: list[ShiftIn] | None) -> list[ShiftIn] | None:
    ordered = sorted(shifts or [], key=lambda s: s.starts_at)
    for before, after in itertools.pairwise(ordered):
        if after.starts_at < before.ends_at:
            raise ValueError("shifts may not overlap")
    return shifts


class CrewIn(BaseModel):
    """A new crew."""

    model_config = _STRICT

    name: str = Field(min_length=1, max_length=100)
    skills: list[Skill] = Field(max_length=len(Skill))
    depot: Point
    vehicle: str | None = Field(default=None, min_length=1, max_length=100)
    status: CrewStatus = CrewStatus.AVAILABLE
    shifts: list[ShiftIn] = Field(default_factory=list, max_length=100)
    origin: CrewOrigin = CrewOrigin.OWN
    organisation: str | None = Field(default=None, min_length=1, max_length=200)
    arrives_at: AwareDatetime | None = Field(
        default=None, description="A crew from elsewhere is planned from then on"
    )

    _skills = field_validator("skills")(_distinct)
    _shifts = field_validator("shifts")(_no_overlap)


class CrewPatch(BaseModel):
    """A change to a crew; what is left out stays. `shifts` replaces all of its shifts."""

    model_config = _STRICT

    name: str | None = Field(default=None, min_length=1, max_length=100)
    skills: list[Skill] | None = Field(default=None, max_length=len(Skill))
    depot: Point | None = None
    vehicle: str | None = Field(default=None, min_length=1, max_length=100)
    status: CrewStatus | None = None
    shifts: list[ShiftIn] | None = Field(default=None, max_length=100)
    origin: CrewOrigin | None = None
    organisation: str | None = Field(default=None, min_length=1, max_length=200)
    arrives_at: AwareDatetime | None = None
    released_at: AwareDatetime | None = Field(
        default=None, description="Sent home: never planned from then on (null: not released)"
    )

    _skills = field_validator("skills")(_distinct)
    _shifts = field_validator("shifts")(_no_overlap)


class PositionIn(BaseModel):
    """Where the crew is, from the crew's phone; with its status when that changed."""

    model_config = _STRICT

    lat: Latitude
    lon: Longitude
    accuracy: float | None = Field(default=None, ge=0, le=100_000, description="metres")
    recorded_at: AwareDatetime | None = Field(
        default=None, description="When the phone took the fix; now when left out"
    )
    status: CrewStatus | None = None


class HelpIn(BaseModel):
    """The crew asks the control room for help (more hands, a bigger truck, a switching)."""

    model_config = _STRICT

    incident_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    note: str | None = Field(default=None, min_length=1, max_length=500)


class HelpOut(BaseModel):
    requested_at: datetime
    incident_id: int | None
    note: str | None


class ShiftOut(BaseModel):
    starts_at: datetime
    ends_at: datetime


class PositionOut(BaseModel):
    lat: float
    lon: float
    accuracy: float | None
    recorded_at: datetime


class MemberOut(BaseModel):
    username: str
    display_name: str | None


class CrewOut(BaseModel):
    id: int
    name: str
    skills: list[Skill]
    depot: Point
    vehicle: str | None
    status: CrewStatus
    origin: CrewOrigin
    organisation: str | None
    arrives_at: datetime | None
    released_at: datetime | None
    on_shift: bool
    """Working now: a shift covers now, it has arrived and is not released or off shift."""
    position: PositionOut | None
    shifts: list[ShiftOut]
    """The current and coming shifts, soonest first."""
    members: list[MemberOut]
    help: HelpOut | None
    """An open call for help from the crew."""


class PositionAccepted(BaseModel):
    crew_id: int
    status: CrewStatus
    position: PositionOut
    latest: bool
    """False when a newer position had already arrived (this one is kept in the track)."""


# --- damage assessments -----------------------------------------------------------------


def _count(name: str) -> Any:
    return Field(default=0, ge=0, le=DAMAGE_LIMITS[name])


class DamageIn(BaseModel):
    """What an assessor or crew found: on an incident, or where no incident is yet (then
    `location` says where). Sent with an `Idempotency-Key`."""

    model_config = _STRICT

    incident_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    crew_id: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="The crew that assessed it (a crew member's own)",
    )
    assessed_at: AwareDatetime = Field(description="When the damage was assessed (event time)")
    location: Point | None = None
    poles_down: int = _count("poles_down")
    spans_down: int = _count("spans_down")
    transformers_damaged: int = _count("transformers_damaged")
    trees_on_line: int = _count("trees_on_line")
    access: Access = Access.NORMAL
    crew_type_needed: Skill
    hours_needed: float = Field(gt=0, le=MAX_HOURS_NEEDED, description="Crew-hours for one crew")
    note: str | None = Field(default=None, min_length=1, max_length=500)

    @model_validator(mode="after")
    def _somewhere(self) -> Self:
        if self.incident_id is None and self.location is None:
            raise ValueError("damage on no incident needs a location")
        return self


class DamageOut(BaseModel):
    id: int
    incident_id: int | None
    crew_id: int | None
    reported_by: str
    assessed_at: datetime
    received_at: datetime
    location: Point | None
    poles_down: int
    spans_down: int
    transformers_damaged: int
    trees_on_line: int
    access: Access
    crew_type_needed: Skill
    hours_needed: float
    note: str | None


# --- dispatch ---------------------------------------------------------------------------


class PinIn(BaseModel):
    """The dispatcher's choice: this incident goes to this crew, at `order` in its route."""

    model_config = _STRICT

    incident_id: int = Field(ge=1, le=2**31 - 1)
    crew_id: int = Field(ge=1, le=2**31 - 1)
    order: int | None = Field(
        default=None, ge=1, le=1000, description="1: the crew's first job; none: anywhere"
    )


class PinOut(BaseModel):
    incident_id: int
    crew_id: int
    order: int | None
    pinned_by: str
    pinned_at: datetime


class PlanRequest(BaseModel):
    """Run the optimiser now, after setting these pins (others stay)."""

    model_config = _STRICT

    pins: list[PinIn] = Field(default_factory=list, max_length=500)
    time_limit_s: float | None = Field(
        default=None, gt=0, le=30, description="Wall time of the optimiser; the setting if none"
    )

    @field_validator("pins")
    @classmethod
    def _one_pin_per_incident(cls, pins: list[PinIn]) -> list[PinIn]:
        if len({p.incident_id for p in pins}) != len(pins):
            raise ValueError("one pin per incident")
        return pins


class PlannedJobOut(BaseModel):
    """One incident in the plan."""

    incident_id: int
    status: IncidentStatus
    version: int
    """The incident's version, for `expected_version` in `PATCH /incidents/{id}`."""
    device: DeviceRef | None
    premise: str | None
    address: str | None
    """The premise's address (single-service outages)."""
    lat: float | None
    lon: float | None
    customers_affected: int
    hazard: Hazard | None
    critical: list[str]
    tier: Tier
    pinned: bool
    sequence: int | None
    planned_arrival: datetime | None
    planned_start: datetime | None
    planned_finish: datetime | None
    travel_s: int | None
    planned_etr: datetime | None
    """The plan's estimate for customers (cautious)."""
    etr: datetime | None
    """The incident's ETR now: a crew's or dispatcher's wins over the plan's."""
    etr_source: EtrSource | None
    etr_earliest: datetime | None = None
    etr_latest: datetime | None = None
    """The range the restoration likely falls in; none for a crew's own time."""


class CrewRouteOut(BaseModel):
    crew_id: int
    crew_name: str
    jobs: list[PlannedJobOut]


class UnassignedOut(BaseModel):
    job: PlannedJobOut
    reason: UnassignedReason
    detail: str


class PlanOut(BaseModel):
    id: int
    made_at: datetime
    made_by: str
    method: Method
    note: str
    solve_s: float
    storm: bool
    weighted_customer_minutes: float
    """What the optimiser minimises: priority weight x minutes until done, summed."""
    customer_minutes: float
    greedy_weighted_customer_minutes: float
    """The same for the greedy rule (most urgent job to the soonest crew), same inputs."""
    greedy_customer_minutes: float
    crews: list[CrewRouteOut]
    unassigned: list[UnassignedOut]
    pins: list[PinOut]
