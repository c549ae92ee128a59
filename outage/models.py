"""Every table of the service, imported in one place so migrations see them all."""

from outage.grid.models import Customer, Device, Feeder, GridNode, Premise, Substation

__all__ = ["Customer", "Device", "Feeder", "GridNode", "Premise", "Substation"]
