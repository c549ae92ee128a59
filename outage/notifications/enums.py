"""The closed vocabularies of notifications."""

from enum import StrEnum


class EventKind(StrEnum):
    """What happened, as a customer is told about it."""

    OUTAGE_DETECTED = "outage_detected"
    ETR_SET = "etr_set"
    ETR_CHANGED = "etr_changed"
    CREW_ON_SITE = "crew_on_site"
    RESTORED = "restored"
    FOLLOW_UP = "follow_up"
    """"Still out? Reply 1 or click here", some time after a restoration."""
    PLANNED_NOTICE = "planned_notice"
    PLANNED_REMINDER = "planned_reminder"
    PLANNED_CHANGED = "planned_changed"
    PLANNED_CANCELLED = "planned_cancelled"


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryStatus(StrEnum):
    """pending -> sending -> sent; a failure goes back to pending (later) or to dead."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"
    """Gave up: too many attempts, or no gateway for the channel. `last_error` says why."""
    SKIPPED = "skipped"
    """Not sent because it no longer holds (an outage notice for a restored incident)."""


class PlannedStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    DONE = "done"


class Reply(StrEnum):
    """A customer's answer to the follow-up."""

    STILL_OUT = "still_out"
    RESTORED = "restored"
