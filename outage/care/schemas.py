"""What service requests look like at the boundary: in from any channel, out to the customer
(nothing personal) and to the back office (everything)."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from outage.care.enums import RequestState, RequestType, SlaStanding
from outage.fields import BigInt, PhoneLast4, Text
from outage.intake.enums import Channel
from outage.intake.schemas import CluesIn

MAX_DETAILS = 10
MAX_TEXT = 2000
MAX_COMMENT = 1000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


DetailValue = Annotated[Text, Field(max_length=200)] | BigInt


class _Typed(_Strict):
    type: RequestType


# `_Typed` last among the bases keeps `type` the first field: the schema, and the JSON an
# idempotency key's request hash is taken of, keep their order.
class RequestIn(CluesIn, _Typed):
    """A customer's request. At least one clue to who or where they are is required."""

    no_clue: ClassVar[str] = "tell us who or where: account, phone, e-mail, address or lat/lon"

    description: Annotated[str | None, Field(max_length=MAX_TEXT)] = None
    details: Annotated[
        dict[Annotated[Text, Field(min_length=1, max_length=40)], DetailValue],
        Field(max_length=MAX_DETAILS, description="The type's own answers, e.g. household_count"),
    ] = Field(default_factory=dict)
    channel: Channel = Channel.API


class RequestReceiptOut(BaseModel):
    ticket: str
    type: RequestType
    state: RequestState
    received_at: datetime
    due_at: datetime
    """When we promise to have closed it (the type's SLA target)."""


class RequestStatusOut(BaseModel):
    """What the customer may see of their request: its progress, nothing personal."""

    ticket: str
    type: RequestType
    state: RequestState
    received_at: datetime
    due_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    rejection_reason: str | None
    rating: int | None
    can_rate: bool
    """Closed and not rated yet."""


class RequestOut(BaseModel):
    """A request as the back office works it: everything the customer told us (staff only)."""

    ticket: str
    type: RequestType
    channel: Channel
    state: RequestState
    sla: SlaStanding
    received_at: datetime
    due_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    age_hours: float
    account: str | None
    """The customer's account when a clue placed the request, else the account given."""
    premise: str | None
    phone: str | None
    email: str | None
    address: str | None
    description: str | None
    details: dict[str, str | int]
    rejection_reason: str | None
    rating: int | None
    rating_comment: str | None
    team: str
    """The team that owns it."""
    agent: str | None
    """The agent of that team who took it on (a staff username), if any."""
    warned_at: datetime | None
    escalated_at: datetime | None


class RequestPatch(_Strict):
    """Move a request on: `reason` is required to reject (the customer is told it)."""

    state: RequestState
    reason: Annotated[str | None, Field(max_length=MAX_TEXT)] = None


class RatingIn(_Strict):
    rating: Annotated[int, Field(ge=1, le=5, description="1 (very unhappy) to 5 (very happy)")]
    comment: Annotated[str | None, Field(max_length=MAX_COMMENT)] = None
    phone_last4: Annotated[
        PhoneLast4 | None,
        Field(
            description="Last four digits of the phone given with the request or registered "
            "to the customer's account; back-office staff recording a rating need none.",
        ),
    ] = None


TeamName = Annotated[Text, Field(min_length=1, max_length=64)]
Username = Annotated[Text, Field(min_length=2, max_length=64)]


class OwnerIn(_Strict):
    """Give a request to a team, or to an agent (of its team, or of `team`), with why."""

    team: TeamName | None = None
    agent: Username | None = None
    reason: Annotated[str | None, Field(max_length=MAX_TEXT)] = None

    @model_validator(mode="after")
    def _someone(self) -> "OwnerIn":
        if self.team is None and self.agent is None:
            raise ValueError("name the new owner: a team, an agent, or both")
        return self


class HistoryStep(StrEnum):
    RECEIVED = "received"
    ASSIGNED = "assigned"
    """To a team (its name only)."""
    STATE = "state"
    ESCALATED = "escalated"
    """Passed to a supervisor."""
    CLOSED = "closed"
    RATED = "rated"


class HistoryEntryOut(BaseModel):
    at: datetime
    step: HistoryStep
    state: RequestState | None = None
    """The state it moved to (received, state, closed)."""
    team: str | None = None
    """The team it went to (assigned, escalated): a team's name, never a person's."""
    rating: int | None = None


class RequestHistoryOut(BaseModel):
    """What happened to a request, for the customer who made it: no staff notes, no staff
    names, nothing personal."""

    ticket: str
    entries: list[HistoryEntryOut]


class OverdueOut(BaseModel):
    ticket: str
    type: RequestType
    state: RequestState
    due_at: datetime
    agent: str | None
    escalated: bool


class LowRatingOut(BaseModel):
    ticket: str
    type: RequestType
    rating: int
    comment: str | None
    """The customer's words (escape them)."""
    rated_at: datetime


class TeamViewOut(BaseModel):
    """One team's late work (open, past due) and its poor ratings in the window."""

    team: str
    supervisor: str | None
    overdue_count: int
    """All its open requests past due; `overdue` lists the most overdue of them."""
    overdue: list[OverdueOut]
    low_ratings: list[LowRatingOut]
