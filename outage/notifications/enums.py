"""The closed vocabularies of notifications."""

from enum import StrEnum


class DeliveryChannel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    WEBHOOK = "webhook"
    ZALO = "zalo"
    """A Zalo Official Account message; the address is the customer's Zalo user id."""


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


class SubscriptionSource(StrEnum):
    """Where a subscription came from."""

    SMS = "sms"
    WEB = "web"
    AGENT = "agent"
    ZALO = "zalo"


class SubscriptionAction(StrEnum):
    """What a row of a subscription's audit trail records."""

    CREATED = "created"
    CODE_SENT = "code_sent"
    VERIFIED = "verified"
    CHANGED = "changed"
    STOPPED = "stopped"
    RESUMED = "resumed"
