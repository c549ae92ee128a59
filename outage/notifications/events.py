"""What each event means for delivery, as pure rules: keys, safety, staleness, timing.

Nothing here touches the database, so the rules are tested on their own.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from outage.incidents.lifecycle import ACTIVE, IncidentStatus
from outage.notifications.enums import DeliveryChannel, PlannedStatus
from outage.outbox.enums import EventKind

WHILE_OUT = frozenset(
    {EventKind.OUTAGE_DETECTED, EventKind.ETR_SET, EventKind.ETR_CHANGED, EventKind.CREW_ON_SITE}
)
"""Worth sending only while the outage lasts: a late "power is out" after the restoration
only confuses."""

BEFORE_WORK = frozenset(
    {EventKind.PLANNED_NOTICE, EventKind.PLANNED_REMINDER, EventKind.PLANNED_CHANGED}
)
"""Worth sending only while the planned outage is still going ahead."""

VERSIONED = frozenset(
    {
        EventKind.ETR_CHANGED,
        EventKind.PLANNED_REMINDER,
        EventKind.PLANNED_CHANGED,
        EventKind.REQUEST_UPDATE,
    }
)
"""Kinds a customer may get more than once per subject: once per version (ETR change,
planned-outage revision, service request's state change)."""

REPLY_KEY = "reply"
CODE_KEY = "code"
"""The first part of the delivery keys of replies and of one-time codes, which are written
straight to notifications, not fanned out of an event."""


def contact_key(channel: DeliveryChannel, address: str) -> str:
    """A subscribed contact in a delivery key: stable, and without its address."""
    return hashlib.sha256(f"{channel.value}:{address}".encode()).hexdigest()[:20]


def recipient_key(customer_id: int | None, contact: str | None) -> str:
    """Who a message goes to, as its delivery key names them (see `delivery_key`)."""
    if contact is not None:
        return f"k{contact}"
    return f"c{customer_id}" if customer_id is not None else "requester"


def delivery_key(
    *,
    customer_id: int | None,
    kind: EventKind,
    incident_id: int | None = None,
    planned_outage_id: int | None = None,
    service_request_id: int | None = None,
    report_id: int | None = None,
    version: int | None = None,
    contact: str | None = None,
) -> str:
    """The message's identity: unique in the table, and the gateway's idempotency key.

    A customer's own contact is named by the customer (the key messages always had); a
    subscribed contact by its `contact_key`, so it gets one message per event however
    many of the affected customers and premises it follows; a service request's
    requester (or a report's sender) who is no customer on record is `requester`.
    """
    if incident_id is not None:
        subject = f"i{incident_id}"
    elif planned_outage_id is not None:
        subject = f"p{planned_outage_id}"
    elif report_id is not None:
        subject = f"t{report_id}"
    else:
        subject = f"r{service_request_id}"
    key = f"{subject}:{recipient_key(customer_id, contact)}:{kind.value}"
    return f"{key}:v{version}" if kind in VERSIONED else key


def kind_of_key(key: str) -> EventKind | None:
    """The kind of message a delivery key names (as `delivery_key`, a reply's or a code's
    writes it); None for a key of another form."""
    parts = key.split(":")
    if parts[0] == REPLY_KEY:
        return EventKind.REPLY
    if parts[0] == CODE_KEY:
        return EventKind.SUBSCRIPTION_CODE
    if len(parts) >= 3 and parts[2] in frozenset(EventKind):
        return EventKind(parts[2])
    return None


def is_stale(
    kind: EventKind,
    *,
    incident_status: IncidentStatus | None = None,
    planned_status: PlannedStatus | None = None,
) -> bool:
    """The message no longer holds: the outage is over, or the planned work is off."""
    if kind in WHILE_OUT and incident_status is not None:
        return incident_status not in ACTIVE
    if kind in BEFORE_WORK and planned_status is not None:
        return planned_status is not PlannedStatus.SCHEDULED
    return False


@dataclass(frozen=True)
class QuietHours:
    """Local hours when only safety messages go out; `start > end` spans midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str | None) -> "QuietHours | None":
        """'22:00-06:00'; None or an empty span means none."""
        if not text:
            return None
        start, end = (time.fromisoformat(part) for part in text.split("-"))
        return None if start == end else cls(start, end)

    def contains(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def release(self, at: datetime, zone: tzinfo) -> datetime:
        """`at` when outside quiet hours, else the moment they end (in UTC like `at`)."""
        local = at.astimezone(zone)
        if not self.contains(local.time()):
            return at
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(at.tzinfo)


def backoff(attempts: int, *, base: timedelta, cap: timedelta) -> timedelta:
    """Wait before the next attempt after `attempts` failed ones: doubling, capped."""
    doubled = base.total_seconds() * 2.0 ** max(0, attempts - 1)
    return timedelta(seconds=min(cap.total_seconds(), doubled))
