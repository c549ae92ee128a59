"""Every table of the service, imported in one place so migrations see them all."""

from outage.auth.models import ApiKey, AuditEntry, AuthSession, LoginAttempt, StaffUser
from outage.grid.models import Customer, Device, Feeder, GridNode, Premise, ServiceArea, Substation
from outage.incidents.models import Incident, IncidentEvent, IncidentEvidence
from outage.intake.models import MeterEvent, Report, ScadaEvent

__all__ = [
    "ApiKey",
    "AuditEntry",
    "AuthSession",
    "Customer",
    "Device",
    "Feeder",
    "GridNode",
    "Incident",
    "IncidentEvent",
    "IncidentEvidence",
    "LoginAttempt",
    "MeterEvent",
    "Premise",
    "Report",
    "ScadaEvent",
    "ServiceArea",
    "StaffUser",
    "Substation",
]
