"""What an agent sees of a caller: who they are, where they are supplied, what is open,
who else hears of their outages."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from outage.i18n import Language
from outage.intake.enums import ReportOutcome, ReportStatus
from outage.notifications.enums import DeliveryChannel, SubscriptionSource
from outage.notifications.schemas import CONTACT_MAX, QUIET_HOURS


class LookupKind(StrEnum):
    ACCOUNT = "account"
    PHONE = "phone"
    ADDRESS = "address"


class PremiseOut(BaseModel):
    ref: str
    address: str
    transformer: str | None
    feeder: str | None


class OpenReportOut(BaseModel):
    ticket: str
    status: ReportStatus
    received_at: datetime
    service_code: str
    outcome: ReportOutcome | None = None
    """`inside_premise`: closed because the meter has power (a service visit may be filed)."""


class CustomerOut(BaseModel):
    account: str
    name: str
    phone: str | None
    email: str | None
    language: Language
    critical: str | None
    premise: PremiseOut
    open_reports: list[OpenReportOut]
    """Not closed yet, newest first: the customer's own, and any about their premise."""
    matched_by: LookupKind


class ContactIn(BaseModel):
    """A contact the caller gives for their account's alerts (the agent vouches for it)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: Literal[DeliveryChannel.SMS, DeliveryChannel.EMAIL] = DeliveryChannel.SMS
    contact: Annotated[str, Field(min_length=3, max_length=CONTACT_MAX)]
    language: Language = Language.VI
    quiet_hours: Annotated[str | None, Field(pattern=QUIET_HOURS)] = None


class ContactOut(BaseModel):
    """One contact following the customer's account, for the agent (personal data)."""

    id: int
    channel: DeliveryChannel
    address: str
    language: Language
    quiet_hours: str | None
    verified: bool
    stopped: bool
    source: SubscriptionSource
