"""Every table of the service, imported in one place so migrations see them all."""

from outage.grid.models import Customer, Device, Feeder, GridNode, Premise, ServiceArea, Substation
from outage.intake.models import MeterEvent, Report, ScadaEvent

__all__ = [
    "Customer",
    "Device",
    "Feeder",
    "GridNode",
    "MeterEvent",
    "Premise",
    "Report",
    "ScadaEvent",
    "ServiceArea",
    "Substation",
]
