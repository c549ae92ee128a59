"""The refusals of switching orders."""

from outage.errors import Conflict, Forbidden, Invalid, NotFound


class OrderNotFound(NotFound, LookupError):
    """No order with that id (or no such step in it)."""


class BadStep(Invalid, ValueError):
    """A step on a device we do not have, or one that cannot be opened or closed."""


class InvalidOrder(Invalid, ValueError):
    """An incident or crew we do not have."""


class CheckRefused(Invalid, ValueError):
    """A draft its check refuses: it closes a loop and does not allow loops, or a verify
    step expects a state the steps before it do not leave the device in."""


class OrderConflict(Conflict, ValueError):
    """Not in a state for this, another order holds a device, a step out of turn, or the
    network changed so that the check no longer passes."""


class StaleOrder(Conflict, ValueError):
    """The order changed since the caller read it (`expected_version`)."""


class NotYours(Forbidden):
    """The drafter approving their own order, a role that may not approve, or a crew
    confirming another crew's order."""
