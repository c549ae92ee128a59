"""The closed vocabularies of customer care: request types, their states, SLA standing."""

from enum import StrEnum


class RequestType(StrEnum):
    """What a customer asks for; the values are the Open311 service codes."""

    NEW_CONNECTION = "new_connection"
    METER_RELOCATION = "meter_relocation"
    CHANGE_OF_CONTRACT_HOLDER = "change_of_contract_holder"
    CHANGE_OF_TARIFF_QUOTA = "change_of_tariff_quota"
    """The number of households sharing a meter, which sets the residential tariff quota."""
    METER_CHECK = "meter_check"
    """A meter accuracy check, or its replacement."""
    BILLING_QUESTION = "billing_question"
    """A meter reading or a bill the customer questions."""
    ELECTRICITY_SAFETY = "electricity_safety"
    """An electrical-safety hazard that is not an emergency (those are hazard reports)."""
    SERVICE_FEEDBACK = "service_feedback"
    CONNECTION_CHECK = "connection_check"
    """The premise's own connection checked: a reported outage the network did not show
    (opened by the care centre, `outage/care/checks.py`)."""


class RequestState(StrEnum):
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    WAITING_FOR_CUSTOMER = "waiting_for_customer"
    DONE = "done"
    REJECTED = "rejected"
    """Closed without doing it; the reason is told to the customer."""


class SlaStanding(StrEnum):
    """Where a request stands against its target (`outage.care.sla.standing`)."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    """Open, with less than a fifth of its target time left."""
    BREACHED = "breached"
    """Open past its due time."""
    MET = "met"
    """Closed by its due time."""
    MISSED = "missed"
    """Closed after its due time."""


class TrailKind(StrEnum):
    """What a trail entry records besides a change of state (those, and a request's
    arrival, have no kind: the rows written before kinds existed are all of them)."""

    ASSIGNED = "assigned"
    """The request's owner set or changed: its team, and the agent within it if any."""
    WARNED = "warned"
    """Its owner warned that its due time is near (`care_warn_share` of it gone)."""
    ESCALATED = "escalated"
    """Past due: passed to its team's supervisor."""
    RATED = "rated"
    """The customer's satisfaction once it was closed (the comment as the note)."""
