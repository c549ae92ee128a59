"""What notifications, preferences and planned outages look like at the HTTP boundary."""

from datetime import datetime
from typing import Annotated, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from outage.i18n import Language
from outage.notifications.enums import DeliveryChannel, DeliveryStatus, PlannedStatus, Reply
from outage.outbox.enums import EventKind

QUIET_HOURS = r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PreferencesIn(_Strict):
    """A customer's choices; a field left out falls back to the default."""

    channel: DeliveryChannel | None = None
    language: Language | None = None
    opt_out: bool = False
    """No messages but safety ones."""
    quiet_hours: Annotated[str | None, Field(pattern=QUIET_HOURS)] = None
    """Local 'HH:MM-HH:MM'; unset: the default quiet hours; '00:00-00:00': none."""


class PreferencesOut(BaseModel):
    account: str
    channel: DeliveryChannel | None = None
    language: Language | None = None
    opt_out: bool = False
    quiet_hours: str | None = None


class NotificationOut(BaseModel):
    """One message, for an agent answering the customer (it carries personal data)."""

    id: int
    kind: EventKind
    incident_id: int | None
    planned_outage_id: int | None
    channel: DeliveryChannel
    address: str
    language: Language
    subject: str
    body: str
    safety: bool
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    due_at: datetime
    sent_at: datetime | None
    reply: Reply | None


class PlannedOutageIn(_Strict):
    device: Annotated[str, Field(min_length=1, max_length=200)]
    """asset_ref of the device that will be opened."""
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: Annotated[str, Field(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class PlannedOutagePatch(_Strict):
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    reason: Annotated[str | None, Field(min_length=1, max_length=500)] = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.starts_at is None and self.ends_at is None and self.reason is None:
            raise ValueError("change at least one of starts_at, ends_at, reason")
        return self


class PlannedOutageOut(BaseModel):
    id: int
    device: str
    device_kind: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    status: PlannedStatus
    revision: int
    customers: int
    notice_queued_at: datetime | None
    reminder_queued_at: datetime | None
    lon: float
    lat: float
