"""What a customer's data export holds: everything we keep about them, with its times."""

from datetime import datetime, time
from typing import Any

from pydantic import BaseModel, ConfigDict

from outage.i18n import Language


class _Row(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PremiseExport(_Row):
    ref: str
    address: str
    meter_id: str | None


class PreferencesExport(_Row):
    channel: str | None
    language: Language | None
    opt_out: bool
    quiet_start: time | None
    quiet_end: time | None
    updated_at: datetime


class ReportExport(_Row):
    ticket: str
    service_code: str
    channel: str
    status: str
    received_at: datetime
    account_given: str | None
    phone: str | None
    email: str | None
    zalo_user_id: str | None
    address_given: str | None
    description: str | None
    hazard: str | None


class RequestEventExport(_Row):
    at: datetime
    from_state: str | None
    to_state: str
    note: str | None


class ServiceRequestExport(_Row):
    ticket: str
    request_type: str
    channel: str
    state: str
    received_at: datetime
    due_at: datetime
    closed_at: datetime | None
    account_given: str | None
    phone: str | None
    email: str | None
    address_given: str | None
    description: str | None
    details: dict[str, Any]
    rejection_reason: str | None
    rating: int | None
    rating_comment: str | None
    events: list[RequestEventExport] = []


class NotificationExport(_Row):
    kind: str
    channel: str
    address: str
    language: Language
    subject: str
    body: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    reply: str | None
    replied_at: datetime | None


class CustomerExport(_Row):
    """A customer's answer to "what do you hold about me" (their right of access)."""

    account: str
    name: str
    phone: str | None
    email: str | None
    language: Language
    critical: str | None
    premise: PremiseExport
    preferences: PreferencesExport | None
    reports: list[ReportExport]
    service_requests: list[ServiceRequestExport]
    notifications: list[NotificationExport]
    exported_at: datetime
