"""Why a photo is refused: each a clear 4xx, and nothing is stored."""

from outage.errors import Conflict, DomainError, Invalid, NotFound


class PhotoTooLarge(DomainError):
    """More bytes than `photo_max_bytes`: 413."""

    status = 413


class NotAnImage(DomainError):
    """The bytes are no JPEG, PNG or WebP, whatever the name or declared type: 415."""

    status = 415


class CorruptImage(Invalid):
    """A JPEG, PNG or WebP that does not decode, or too many pixels to decode safely."""


class TooManyPhotos(Conflict):
    """The report (or the incident's crew photos) already has as many as are kept."""


class PhotoNotFound(NotFound):
    """No photo with that id."""


class NoOwner(Invalid):
    """A photo must belong to a report or an incident that exists."""


REFUSALS = (PhotoTooLarge, NotAnImage, CorruptImage, TooManyPhotos)
"""What a form catches to show beside its photo field (their statuses say which)."""
