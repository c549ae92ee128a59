"""Every table of the service, imported in one place so migrations see them all."""

from outage.grid.models import Customer, Device, Feeder, GridNode, Premise, ServiceArea, Substation
from outage.incidents.models import Incident, IncidentEvent, IncidentEvidence
from outage.intake.models import MeterEvent, Report, ScadaEvent

__all__ = [
    "Customer",
    "Device",
    "Feeder",
    "GridNode",
    "Incident",
    "IncidentEvent",
    "IncidentEvidence",
    "MeterEvent",
    "Premise",
    "Report",
    "ScadaEvent",
    "ServiceArea",
    "Substation",
]
