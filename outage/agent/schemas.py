"""What an agent sees of a caller: who they are, where they are supplied, what is open."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from outage.i18n import Language
from outage.intake.enums import ReportStatus


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
