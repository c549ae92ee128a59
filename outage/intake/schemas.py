"""What reports and device events look like at the boundary, validated once for every channel."""

from datetime import datetime
from typing import Annotated, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    model_validator,
)

from outage.fields import Latitude, Longitude
from outage.intake.enums import (
    Channel,
    Hazard,
    MatchMethod,
    MeterEventKind,
    PingReason,
    PingState,
    ReportStatus,
    SwitchState,
)
from outage.intake.phones import to_e164
from outage.intake.progress import Phase, Progress


def _phone(value: str | None) -> str | None:
    return to_e164(value) if value else None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CluesIn(_Strict):
    """Clues to who or where a customer is, as reports and service requests take them: at
    least one is required, and `lat` comes with `lon`."""

    account: Annotated[str | None, Field(max_length=64)] = None
    phone: Annotated[str | None, Field(max_length=32), AfterValidator(_phone)] = None
    email: Annotated[str | None, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] = (
        None
    )
    address: Annotated[str | None, Field(max_length=300)] = None
    lat: Latitude | None = None
    lon: Longitude | None = None

    no_clue: ClassVar[str] = "tell us where: account, phone, e-mail, address or lat/lon"
    """The refusal when no clue is given."""
    needs_clue: ClassVar[bool] = True

    @model_validator(mode="after")
    def _where(self) -> Self:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together")
        clued = self.account or self.phone or self.email or self.address or self.lat is not None
        if self.needs_clue and not clued:
            raise ValueError(self.no_clue)
        return self


class ReportIn(CluesIn):
    """A customer's report. At least one clue to where they are is required."""

    description: Annotated[str | None, Field(max_length=2000)] = None
    hazard: Hazard | None = None
    channel: Channel = Channel.API


class ContactReportIn(ReportIn):
    """A hazard from a channel that knows its sender by a contact of its own (a Zalo user)
    but not where they are: filed without a clue, for an agent to place after asking them,
    since a danger is not turned away. Never a body any route takes."""

    needs_clue: ClassVar[bool] = False


class MatchOut(BaseModel):
    """Where a report was placed: `premise`, `transformer` and `feeder` are shown to staff
    and integration keys only; an anonymous caller sees `method` and `confidence`, never
    another customer's references."""

    premise: str | None
    transformer: str | None
    feeder: str | None
    method: MatchMethod
    confidence: float


class ReceiptOut(BaseModel):
    id: int
    ticket: str
    status: ReportStatus
    match: MatchOut
    incident_id: int | None = None
    duplicate_of: str | None = None
    """Ticket of the earlier report this one attaches to (staff and integration keys only)."""

    def for_anyone(self) -> "ReceiptOut":
        """What an anonymous reporter may be told: whoever they named, a phone or an
        account, is not proven theirs, so no references of the customer it placed the
        report on, nor that customer's earlier ticket."""
        return self.model_copy(
            update={
                "match": self.match.model_copy(
                    update={"premise": None, "transformer": None, "feeder": None}
                ),
                "duplicate_of": None,
            }
        )


class ReportStatusOut(BaseModel):
    """What the reporter may see: nothing about anyone, themselves included, but the ticket."""

    ticket: str
    status: ReportStatus
    received_at: datetime
    hazard: Hazard | None
    incident_id: int | None = None
    duplicate_of: str | None = None
    """Ticket of the earlier report this one joins (staff who work the queue only)."""
    phase: Phase | None = None
    """Where its outage stands in the customer's terms; none before it is part of one."""
    cause: str | None = None
    """A cause code of the fixed list, once known; never free text."""
    etr: datetime | None = None
    etr_earliest: datetime | None = None
    etr_latest: datetime | None = None
    """The ETR and the range the restoration likely falls in (none for a crew's own time)."""
    restored_at: datetime | None = None
    """When this customer's supply came back."""
    assessing_damage: bool = False
    """A storm: the outage waits for damage to be assessed before times are given."""
    closed_at: datetime | None = None

    def with_progress(self, progress: Progress | None) -> "ReportStatusOut":
        """With what the report's incident tells of it."""
        if progress is None:
            return self
        return self.model_copy(
            update={
                "phase": progress.phase,
                "cause": progress.cause,
                "etr": progress.etr,
                "etr_earliest": progress.etr_earliest,
                "etr_latest": progress.etr_latest,
                "restored_at": progress.restored_at,
                "assessing_damage": progress.assessing_damage,
            }
        )

    def for_customer(self) -> "ReportStatusOut":
        """Without the earlier ticket: the last digits of a phone prove only that the
        caller knows it, and whoever named a customer's phone or account need not be them."""
        return self.model_copy(update={"duplicate_of": None})


class MeterEventIn(_Strict):
    meter_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00]+$")]
    """No NUL: a batch's values reach the route unchecked (`outage.web.middleware`)."""
    event: MeterEventKind
    occurred_at: AwareDatetime


METER_BATCH_MAX = 10_000
"""A storm's worth of last gasps in one request, and still a bounded body."""


class MeterEventsIn(_Strict):
    """A head-end batch. Its events are taken as they come and validated one by one
    (`MeterEventIn`), so one malformed event is answered alone and never loses the rest: a
    head-end retrying a refused batch would otherwise lose it whole, for ever."""

    events: Annotated[list[JsonValue], Field(min_length=1, max_length=METER_BATCH_MAX)]


class RejectedEventOut(BaseModel):
    index: int
    """The event's place in the batch, from 0."""
    reason: str


class MeterEventsOut(BaseModel):
    """What became of a batch: every event is accepted, a duplicate (stored before, or
    twice in the batch), of an unknown meter, or rejected with its reason. The lists are
    capped; the counts are whole."""

    accepted: int
    duplicates: int
    unknown_meters: list[str] = []
    """The meter ids we do not know, sorted (at most `ANSWER_CAP`)."""
    unknown_meter_count: int = 0
    unknown_events: int = 0
    """Events of those meters: not stored."""
    rejected: list[RejectedEventOut] = []
    """Malformed or out-of-bounds events, in batch order (at most `ANSWER_CAP`)."""
    rejected_count: int = 0

    ANSWER_CAP: ClassVar[int] = 100


MeterId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00]+$")]


class PingsIn(_Strict):
    """Meters to ask whether they have power, and why."""

    meter_ids: Annotated[list[MeterId], Field(min_length=1, max_length=METER_BATCH_MAX)]
    reason: PingReason = PingReason.MANUAL
    incident_id: int | None = None


class PingBatchOut(BaseModel):
    """What became of the meters asked for (`outage.intake.pings.PingBatch`)."""

    request_ids: list[str]
    asked: list[str]
    pending: list[str]
    """Already waiting for an answer: not asked again."""
    deferred: list[str]
    """Over the head-end's minute: ask again later."""
    unknown: list[str]
    """Of no premise we know."""


class PingOut(BaseModel):
    """A meter asked, and its answer once it came."""

    model_config = ConfigDict(from_attributes=True)

    request_id: str
    meter_id: str
    reason: PingReason
    incident_id: int | None
    asked_at: datetime
    sent_at: datetime | None
    state: PingState
    answered_at: datetime | None


class PingAnswerIn(_Strict):
    """A meter's answer to a ping (`outage.intake.headend`)."""

    request_id: MeterId
    meter_id: MeterId
    state: Literal["on", "off", "no_answer"]
    answered_at: AwareDatetime


class PingAnswersIn(_Strict):
    """A head-end's batch of answers, validated one by one as a meter events batch is."""

    answers: Annotated[list[JsonValue], Field(min_length=1, max_length=METER_BATCH_MAX)]


class PingAnswersOut(BaseModel):
    """What became of a batch of answers: each is recorded, settled before (answered
    already, or its wait ran out: nothing changes), unknown (no such ping), or rejected
    with its reason. The lists are capped; the counts are whole."""

    recorded: int
    settled_before: int
    unknown: list[str] = []
    """The meter ids of answers to no ping we sent, sorted (at most `ANSWER_CAP`)."""
    unknown_count: int = 0
    rejected: list[RejectedEventOut] = []
    rejected_count: int = 0

    ANSWER_CAP: ClassVar[int] = 100


class ScadaEventIn(_Strict):
    """A device changing state, a fault indication, or both (a breaker that saw fault
    current and tripped)."""

    asset_ref: Annotated[str, Field(min_length=1, max_length=200)]
    state: SwitchState | None = None
    fault_passed: bool | None = None
    """The device or the fault indicator at it saw fault current (true) or did not."""
    occurred_at: AwareDatetime
    cause: Annotated[str | None, Field(max_length=200)] = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.state is None and self.fault_passed is None:
            raise ValueError("a SCADA event has a state, a fault_passed indication or both")
        return self


class ScadaEventOut(BaseModel):
    accepted: bool
    """False when SCADA sent this event before."""


class QueuedReportOut(BaseModel):
    """A report waiting for an agent, with everything the reporter told us (staff only)."""

    ticket: str
    channel: Channel
    received_at: datetime
    account_given: str | None
    phone: str | None
    email: str | None
    address_given: str | None
    lat: float | None
    lon: float | None
    description: str | None
    hazard: Hazard | None
    candidates: list[str]


class PlacementIn(_Strict):
    premise: Annotated[str, Field(min_length=1, max_length=200, description="Premise ref")]
