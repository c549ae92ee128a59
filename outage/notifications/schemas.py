"""What notifications, preferences, subscriptions and planned outages look like at the HTTP
boundary."""

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from outage.i18n import Language
from outage.notifications.enums import (
    DeliveryChannel,
    DeliveryStatus,
    PlannedStatus,
    Reply,
    SubscriptionSource,
)
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


CONTACT_MAX = 254


class SubscriptionIn(_Strict):
    """A phone or e-mail address to be told of a customer's (or an address's) outages.

    Give exactly one of `account` (the customer's) and `address` (a premise, found as
    intake finds a report's address). With `follow: "address"`, an account names the
    premise it is supplied at instead of the customer. Without `channel`, a contact with
    an `@` is an e-mail address, else a phone number.
    """

    account: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    follow: Literal["account", "address"] = "account"
    address: Annotated[str | None, Field(min_length=3, max_length=300)] = None
    contact: Annotated[str, Field(min_length=3, max_length=CONTACT_MAX)]
    channel: Literal[DeliveryChannel.SMS, DeliveryChannel.EMAIL] | None = None
    language: Language = Language.VI
    quiet_hours: Annotated[str | None, Field(pattern=QUIET_HOURS)] = None
    """Local 'HH:MM-HH:MM'; unset: the default quiet hours; '00:00-00:00': none."""

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.account is None) == (self.address is None):
            raise ValueError("give exactly one of account and address")
        return self

    @property
    def chosen_channel(self) -> DeliveryChannel:
        if self.channel is not None:
            return self.channel
        return DeliveryChannel.EMAIL if "@" in self.contact else DeliveryChannel.SMS


class SubscriptionPending(BaseModel):
    """A code is on its way to the contact: give it back to `POST .../{handle}/verify`."""

    handle: str
    """This code's random name (a new code has a new one)."""
    code_expires_in_minutes: int


class CodeIn(_Strict):
    code: Annotated[str, Field(pattern=r"^\d{6}$")]


class SubscriptionPatch(_Strict):
    """What a subscriber may change; a field left out stays as it is."""

    language: Language | None = None
    quiet_hours: Annotated[str | None, Field(pattern=QUIET_HOURS)] = None
    channel: DeliveryChannel | None = None
    """Only the subscription's own: another channel needs a contact of its own, verified."""


class SubscriptionOut(BaseModel):
    """A subscription as its subscriber sees it: the contact masked, nothing of the
    customer but the account number they gave."""

    id: int
    target: Literal["account", "address"]
    account: str | None
    channel: DeliveryChannel
    contact: str
    language: Language
    quiet_hours: str | None
    verified: bool
    stopped: bool
    source: SubscriptionSource


class SubscriptionVerified(SubscriptionOut):
    token: str
    """The subscription's secret: `GET`, `PATCH` and `DELETE /api/v1/subscriptions/{token}`."""
