"""What the incidents functions raise, so that their callers (the HTTP routes, the crew
planner) can tell a missing incident, a stale version, a conflict and a bad value apart.
"""

from outage.errors import Conflict, Invalid, NotFound


class IncidentNotFound(NotFound, LookupError):
    """No incident with that id."""


class StaleVersion(Conflict, ValueError):
    """The client's `expected_version` is not the incident's version: someone changed it."""

    code = "stale_version"


class IncidentConflict(Conflict, ValueError):
    """The change does not fit the incident as it is now (besides the lifecycle's rules)."""


class InvalidIncidentValue(Invalid, ValueError):
    """A value that cannot be right: a time before the outage began, a negative count."""


class EtrOutOfRange(InvalidIncidentValue):
    """An estimated restoration before the outage began or beyond the horizon."""

    code = "etr_range"


class UnknownAsset(InvalidIncidentValue):
    """A device, customer account, feeder or piece of evidence we do not have."""


class UnknownFoundDevice(UnknownAsset):
    """A crew's finding names a device the network does not have."""

    code = "unknown_device"


class OutsideArea(IncidentConflict):
    """A crew's finding at a device that is not at or below the incident's device."""

    code = "outside_area"
