"""The refusals of restoration plans."""

from outage.errors import Conflict, NotFound


class NotPlannable(Conflict, ValueError):
    """Not an active outage on a device, or nothing above its device can have opened."""


class StalePlan(Conflict, ValueError):
    """The network changed since the plans were read: they may no longer hold."""


class RestorationPlanNotFound(NotFound, LookupError):
    """No plan of that rank."""


class RestorationUnderWay(Conflict, ValueError):
    """The incident already has another restoration order not finished."""


class HazardAhead(Conflict, ValueError):
    """A closing would give supply to where an active hazard is."""
