"""The closed vocabularies of intake, shared by tables, schemas and channels."""

from enum import StrEnum


class ServiceCode(StrEnum):
    """What an outage report is about (care requests have codes of their own)."""

    OUTAGE = "outage"
    HAZARD = "hazard"


OUTAGE_CODES = (ServiceCode.OUTAGE, ServiceCode.HAZARD)
"""Reports the engine reasons over."""


class Channel(StrEnum):
    WEB = "web"
    SMS = "sms"
    EMAIL = "email"
    IVR = "ivr"
    AGENT = "agent"
    OPEN311 = "open311"
    API = "api"
    ZALO = "zalo"


class Hazard(StrEnum):
    WIRES_DOWN = "wires_down"
    FIRE = "fire"
    TREE_ON_LINE = "tree_on_line"
    FLOODED_EQUIPMENT = "flooded_equipment"


class ReportStatus(StrEnum):
    RECEIVED = "received"
    """Matched onto the network; the prediction engine takes it from here."""
    NEEDS_AGENT = "needs_agent"
    """Plausible but not placed on the network: waits in the agents' review queue."""
    DUPLICATE = "duplicate"
    """The same customer already told us about this outage; attached to that report."""
    CLOSED = "closed"


class ReportOutcome(StrEnum):
    """Why a report closed when it was no outage of the network (None: its supply came
    back, or its incident was cancelled)."""

    INSIDE_PREMISE = "inside_premise"
    """The customer's meter answered that it has power: the fault is inside the premise."""


class MatchMethod(StrEnum):
    ACCOUNT = "account"
    PHONE = "phone"
    EMAIL = "email"
    GPS_PREMISE = "gps_premise"
    GPS_TRANSFORMER = "gps_transformer"
    ADDRESS = "address"
    AGENT = "agent"
    """An agent placed it by hand from the review queue."""
    NONE = "none"


class MeterEventKind(StrEnum):
    LAST_GASP = "last_gasp"
    POWER_RESTORED = "power_restored"


class SwitchState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class PingReason(StrEnum):
    """Why a meter was asked whether it has power."""

    VERIFY_INCIDENT = "verify_incident"
    SINGLE_CALL = "single_call"
    RESTORATION = "restoration"
    MANUAL = "manual"


class PingState(StrEnum):
    """A meter ping's outcome: pending until the head-end answers or the wait runs out."""

    PENDING = "pending"
    ON = "on"
    OFF = "off"
    NO_ANSWER = "no_answer"


PING_ANSWERS = (PingState.ON, PingState.OFF, PingState.NO_ANSWER)
"""What a head-end may answer."""
