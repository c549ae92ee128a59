"""What incidents look like over HTTP: the dispatcher/crew action body and the answers."""

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from dispatch.etr import EtrSource
from grid_topology.model import DeviceKind
from outage.incidents.enums import Action, AuditAction, IncidentKind
from outage.incidents.lifecycle import IncidentStatus
from outage.intake.enums import Hazard, PingReason
from outage.storms.enums import EtrScope

_ALWAYS = frozenset({"action", "reason", "expected_version"})
_FIELDS: dict[Action, tuple[frozenset[str], frozenset[str]]] = {
    # action: (required, optional) besides action, reason and expected_version
    Action.ASSIGN: (frozenset({"crew_id"}), frozenset()),
    Action.PARTIAL_RESTORE: (
        frozenset(),
        frozenset({"restored_customers", "restored_device", "at"}),
    ),
    Action.CONFIRM: (frozenset(), frozenset({"device"})),
    Action.RESTORED: (frozenset(), frozenset({"at"})),
    Action.CANCEL: (frozenset({"reason"}), frozenset()),
    Action.SET_CAUSE: (frozenset({"cause"}), frozenset()),
    Action.SET_ETR: (frozenset({"etr"}), frozenset({"etr_source"})),
    Action.MOVE: (frozenset({"device"}), frozenset()),
    Action.SPLIT: (frozenset({"device"}), frozenset({"reports", "meter_events", "scada_events"})),
    Action.MERGE: (frozenset({"merged_id"}), frozenset()),
    Action.RESTORED_BY_SWITCHING: (frozenset(), frozenset({"at"})),
}


class IncidentPatch(BaseModel):
    """One dispatcher or crew action on an incident, with the fields that action takes.

    `expected_version` (the `version` the client last saw) makes the change fail with 409
    when someone else changed the incident meanwhile.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    action: Action
    reason: str | None = Field(default=None, min_length=1, max_length=2000)
    expected_version: int | None = Field(default=None, ge=1)
    crew_id: int | None = Field(default=None, ge=1, description="assign: the crew sent")
    restored_customers: int | None = Field(
        default=None,
        ge=1,
        description="partial_restore: customers back in this step, as counted; a count "
        "names nobody, so nobody is told (name restored_device for them to be told)",
    )
    restored_device: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="partial_restore: asset_ref of a device below the faulted one whose "
        "customers are back",
    )
    at: AwareDatetime | None = Field(
        default=None,
        description="partial_restore, restored, restored_by_switching: when power came back "
        "(else now)",
    )
    device: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="confirm: asset_ref of the device the crew found faulted, when the "
        "prediction named another; move: the device the incident goes to; split: the "
        "device of the new incident",
    )
    reports: list[int] | None = Field(
        default=None,
        max_length=1000,
        description="split: ids of the incident's reports that go to the new incident",
    )
    meter_events: list[int] | None = Field(
        default=None,
        max_length=1000,
        description="split: ids of the incident's meter events that go to the new incident",
    )
    scada_events: list[int] | None = Field(
        default=None,
        max_length=1000,
        description="split: ids of the incident's SCADA events that go to the new incident",
    )
    merged_id: int | None = Field(
        default=None, ge=1, description="merge: the incident taken into this one"
    )
    cause: str | None = Field(default=None, min_length=1, max_length=500)
    etr: AwareDatetime | None = Field(default=None, description="set_etr: estimated restoration")
    etr_source: Literal[EtrSource.CREW, EtrSource.DISPATCHER] = Field(
        default=EtrSource.DISPATCHER, description="set_etr: whose estimate it is"
    )

    @model_validator(mode="after")
    def _fields_fit_action(self) -> Self:
        required, optional = _FIELDS.get(self.action, (frozenset(), frozenset()))
        given = {name for name in self.model_fields_set if getattr(self, name) is not None}
        missing = sorted(required - given)
        if missing:
            raise ValueError(f"{self.action.value} needs {', '.join(missing)}")
        extra = sorted(given - required - optional - _ALWAYS)
        if extra:
            raise ValueError(f"{self.action.value} does not take {', '.join(extra)}")
        if self.action is Action.PARTIAL_RESTORE and (
            (self.restored_customers is None) == (self.restored_device is None)
        ):
            raise ValueError("partial_restore needs restored_customers or restored_device")
        if self.action is Action.SPLIT and not (
            self.reports or self.meter_events or self.scada_events
        ):
            raise ValueError(
                "split needs the evidence that goes: reports, meter_events or scada_events"
            )
        return self


class IncidentCreate(BaseModel):
    """An outage a dispatcher records at a device (a crew found damage nobody called
    about): it is confirmed, and its customers are told as the engine's are."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    device: str = Field(min_length=1, max_length=200, description="asset_ref of the device")
    cause: str | None = Field(default=None, min_length=1, max_length=500)
    reason: str | None = Field(default=None, min_length=1, max_length=2000)
    started_at: AwareDatetime | None = Field(default=None, description="when it began (else now)")


class DeviceRef(BaseModel):
    asset_ref: str
    kind: DeviceKind


class IncidentOut(BaseModel):
    """An incident as staff see it; the public map aggregates these."""

    id: int
    kind: IncidentKind
    status: IncidentStatus
    device: DeviceRef | None
    """The faulted device; None for a single-service outage or a hazard not yet placed."""
    premise: str | None
    """The premise ref of a single-service outage."""
    feeder: str | None
    hazard: Hazard | None
    confidence: float
    customers_affected: int
    customers_restored: int
    report_count: int
    started_at: datetime
    restored_at: datetime | None
    momentary: bool
    etr: datetime | None
    """The estimated restoration: the expected time, the one to show first."""
    etr_source: EtrSource | None
    etr_earliest: datetime | None
    etr_latest: datetime | None
    """The range the restoration likely falls in (`dispatch.etr`); none for a crew's or a
    dispatcher's own time."""
    etr_scope: EtrScope = EtrScope.OUTAGE
    """Whose time `etr` is: the outage's own, or in a storm's phase its area's or the
    storm's (`outage.storms`)."""
    crew_id: int | None
    cause: str | None
    parent_id: int | None
    merged_into_id: int | None
    version: int
    updated_at: datetime


class IncidentEventOut(BaseModel):
    at: datetime
    actor: str
    action: AuditAction
    from_status: IncidentStatus | None
    to_status: IncidentStatus | None
    reason: str | None
    details: dict[str, Any]


class EvidenceCountsOut(BaseModel):
    reports: int
    meter_events: int
    scada_events: int


class IncidentReportOut(BaseModel):
    """A report the incident holds, as a dispatcher splits them: staff only."""

    id: int
    ticket: str
    received_at: datetime
    address: str | None
    """The premise the report was matched to, when it was."""


class PingCountsOut(BaseModel):
    """Meters asked about the incident, by their latest ping: on (they have power), off,
    silent (no answer) and pending (asked, not answered yet)."""

    on: int
    off: int
    silent: int
    pending: int


class TransformerPingsOut(PingCountsOut):
    transformer: str | None
    """The asset ref of the transformer the meters' premises hang under; None: none known."""
    last_answer_at: datetime | None
    """The newest "on" or "off" answer."""
    reasons: list[PingReason]


class IncidentPingsOut(PingCountsOut):
    last_answer_at: datetime | None
    reasons: list[PingReason]
    transformers: list[TransformerPingsOut]


class IncidentDetailOut(IncidentOut):
    evidence: EvidenceCountsOut
    reports: list[IncidentReportOut]
    """The reports it holds, newest first (up to 200): what a split may move."""
    nested: list[int]
    """Ids of the incidents nested in this one."""
    events: list[IncidentEventOut]
    """The audit trail, oldest first."""
    pings: IncidentPingsOut | None = None
    """What the meters asked about it answered, per transformer; None: none was asked."""


class IncidentProperties(BaseModel):
    id: int
    kind: IncidentKind
    status: IncidentStatus
    device: DeviceRef | None
    hazard: Hazard | None
    confidence: float
    customers_affected: int
    report_count: int
    started_at: datetime
    etr: datetime | None
    etr_earliest: datetime | None
    etr_latest: datetime | None
    """The range the restoration likely falls in; none for a crew's own time."""
    crew_id: int | None
    cause: str | None
    photo_count: int = 0
    """Photos of the incident and its reports (`GET /api/v1/incidents/{id}/photos`)."""
    customers_restored: int = 0
    feeder: str | None = None
    address: str | None = None
    """The premise's address of a single-service outage (staff only, as the whole layer)."""
    tickets: list[str] = Field(default_factory=list)
    """Tickets of its newest reports (up to 20), so the dispatcher can search by ticket."""
    crew_name: str | None = None
    parent_id: int | None = None
    version: int = 1
    """Send it back as `expected_version` with an action."""
    actions: list[Action] = Field(default_factory=list)
    """The actions the incident takes now (`PATCH /api/v1/incidents/{id}`): a page offers
    these and no others."""
    mergeable: bool = False
    """Whether another incident may take this one in (`merge` with its id)."""
    pings: PingCountsOut | None = None
    """The meters asked about it, by answer (the breakdown per transformer is in
    `GET /api/v1/incidents/{id}`); None: none was asked."""


class IncidentFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: int
    geometry: dict[str, Any] | None
    """The device's point or line, the premise's point, or null for a hazard not placed."""
    properties: IncidentProperties


class IncidentFeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[IncidentFeature]
