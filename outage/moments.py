"""Times the system promises, takes and shows: how far ahead a promise may lie, how far
ahead of our clock a reported time may be, and local time.

A restoration estimate or a planned outage beyond these horizons is a typo or an attack,
not a plan; refusing it where it enters keeps every message, page and calendar able to
show the times they hold.
"""

from datetime import datetime, timedelta, tzinfo

CLOCK_SKEW = timedelta(minutes=1)
"""How far ahead of our clock a time others report may be (a phone's, a crew's, a meter
head-end's clock): beyond it, a time is in the future and refused."""
ETR_HORIZON = timedelta(days=30)
"""The furthest an estimated restoration may lie ahead (a typhoon's worst feeders)."""
PLANNED_HORIZON = timedelta(days=366)
"""The furthest ahead planned work may be announced."""
PLANNED_MAX_LENGTH = timedelta(days=7)
"""The longest a planned outage may keep customers off."""


def local_time(moment: datetime, zone: tzinfo) -> datetime | None:
    """The moment in the zone; None at the calendar's edge, where the zone's offset would
    leave the years a datetime can hold (a stored 9999-12-31T20:00Z, say)."""
    try:
        return moment.astimezone(zone)
    except OverflowError:
        return None
