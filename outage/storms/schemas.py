"""What storms look like over HTTP: request bodies and answers."""

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from outage.storms.enums import StormPhase

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StormIn(BaseModel):
    model_config = _STRICT

    name: str = Field(min_length=1, max_length=200, description="e.g. the typhoon's name")
    level: int = Field(ge=1, le=3, description="1 own crews, 2 all districts, 3 mutual aid")
    phase: StormPhase = Field(
        default=StormPhase.ASSESSING, description="What customers are told to begin with"
    )
    declared_at: AwareDatetime | None = Field(
        default=None, description="When the storm began for the utility; now when not given"
    )


class StormPatch(BaseModel):
    """One change: a level, a phase (for some regions, or all), or the end."""

    model_config = _STRICT

    expected_version: int = Field(
        ge=1, description="The version read: a change in between is refused"
    )
    level: int | None = Field(default=None, ge=1, le=3)
    phase: StormPhase | None = None
    regions: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Substations whose phase changes; every region when not given",
    )
    ended_at: AwareDatetime | None = Field(default=None, description="Ends the storm")


class RegionOut(BaseModel):
    region: str
    """The substation's name."""
    phase: StormPhase
    """Its own, or the storm's when it follows the storm."""
    etr: datetime | None
    etr_latest: datetime | None


class StormOut(BaseModel):
    id: int
    name: str
    level: int
    phase: StormPhase
    """Of every region not listed in `regions`."""
    declared_at: datetime
    declared_by: str
    ended_at: datetime | None
    etr: datetime | None
    """Everyone the storm put out back by then (expected), in the global phase."""
    etr_latest: datetime | None
    regions: list[RegionOut]
    version: int


class ProposalOut(BaseModel):
    level: int
    """0: no storm."""
    incidents_last_hour: int
    customers_out: int
    customers: int
    share_out: float
    storm_on: bool
