"""The domain errors: what a service raises when it refuses, each knowing its HTTP status.

Services raise subclasses of these (`IncidentNotFound` is a `NotFound`, `StaleVersion` a
`Conflict`, ...); one handler (`outage/web/errors.py`) answers any of them with its status
and `{"detail": str(exc)}` (with its `code`, when it has one), and Open311's routes answer
them in GeoReport's own format. A class that callers also catch as a builtin
(`LookupError`, `ValueError`) keeps that base after this one.
"""


class DomainError(Exception):
    """A refusal with a reason the caller is told."""

    status: int = 400
    headers: dict[str, str] | None = None
    """Extra response headers (a rate limit's Retry-After)."""
    code: str | None = None
    """A stable name for the refusal, answered beside the reason, so a page can word it
    in its reader's language."""


class NotFound(DomainError):
    """The thing asked for does not exist."""

    status: int = 404


class Conflict(DomainError):
    """The change does not fit the thing as it is now."""

    status: int = 409


class Invalid(DomainError):
    """A value that cannot be right."""

    status: int = 422


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    status: int = 403


class RateLimited(DomainError):
    """Too many requests from one caller: try again after `retry_after_s` seconds."""

    status: int = 429

    def __init__(self, what: str, retry_after_s: int, *, doing: str = "reports from") -> None:
        super().__init__(f"too many {doing} this {what}; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s
        self.headers = {"Retry-After": str(retry_after_s)}
