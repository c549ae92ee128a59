"""The closed vocabulary of the outbox."""

from enum import StrEnum


class EventKind(StrEnum):
    """What happened, as a customer is told about it."""

    OUTAGE_DETECTED = "outage_detected"
    ETR_SET = "etr_set"
    ETR_CHANGED = "etr_changed"
    CREW_ON_SITE = "crew_on_site"
    RESTORED = "restored"
    FOLLOW_UP = "follow_up"
    """The separate "still out?" message earlier versions sent after a restoration: no
    longer written (the restored message asks), kept so their answers still count."""
    PLANNED_NOTICE = "planned_notice"
    PLANNED_REMINDER = "planned_reminder"
    PLANNED_CHANGED = "planned_changed"
    PLANNED_CANCELLED = "planned_cancelled"
    REPLY = "reply"
    """The answer to a customer's own message on a channel that cannot answer in its
    webhook's response (Zalo): a message of its own, written with the report it answers;
    never an outbox event."""
    REQUEST_UPDATE = "request_update"
    """A service request arrived or changed state: its requester is told, once per change."""
    INSIDE_PREMISE = "inside_premise"
    """A lone caller's meter answered that it has power: their report is closed, and they
    are told to check their main breaker and how to ask for a service visit."""
    SUBSCRIPTION_CODE = "subscription_code"
    """The one-time code that proves a new contact of a subscription is the subscriber's
    (written straight to notifications, never an outbox event)."""
