"""The refusals of storm operations."""

from outage.errors import Conflict, Invalid, NotFound


class StormNotFound(NotFound, LookupError):
    """No storm with that id, or no storm on."""


class StormConflict(Conflict, ValueError):
    """Another storm is on, this one has ended, or it changed since the caller read it."""


class InvalidStorm(Invalid, ValueError):
    """A region we do not have, or a time that cannot be right."""
