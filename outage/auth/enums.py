"""The closed vocabularies of access control."""

from enum import StrEnum


class Role(StrEnum):
    """What a staff member does; each account has one."""

    AGENT = "agent"
    """Call-centre agent: finds callers, logs their calls, places queued reports."""
    DISPATCHER = "dispatcher"
    """Control room: works incidents and reads the network."""
    CREW = "crew"
    """Field crew member: belongs to a crew and acts on that crew's incidents."""
    SUPERVISOR = "supervisor"
    """Reads everything staff can see, changes nothing."""
    ADMIN = "admin"
    """Everything."""


class Scope(StrEnum):
    """What an integration's API key may call."""

    CHANNELS = "channels"
    """SMS gateway and IVR webhooks."""
    AMI = "ami"
    """The smart-meter head-end: last gasps and power restorations."""
    SCADA = "scada"
    """SCADA breaker and recloser events."""
    OPEN311 = "open311"
    """Open311 GeoReport v2 clients posting service requests."""


class PrincipalKind(StrEnum):
    ANONYMOUS = "anonymous"
    STAFF = "staff"
    API_KEY = "api_key"


class SessionKind(StrEnum):
    """How a staff session's token travels."""

    COOKIE = "cookie"
    """The web pages: an HttpOnly cookie, and a CSRF token for every form."""
    BEARER = "bearer"
    """API clients: `Authorization: Bearer <token>`."""


class LoginOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    LOCKED = "locked"
    """Refused unchecked: too many failures in the window."""
