"""Every PostgreSQL advisory lock the service takes, in one place, so no two uses of a key
can meet unseen.

A two-key lock's first key names what is locked (the second is that thing's id); a
one-key lock stands alone. PostgreSQL keeps the two kinds apart, so they cannot collide
with each other.
"""

from enum import IntEnum, unique


@unique
class LockSpace(IntEnum):
    """First keys of the two-key locks."""

    CUSTOMER_REPORTS = 1
    """(this, customer id), per transaction: a customer's simultaneous reports are filed one
    after the other, so the second finds the first (intake)."""
    SWITCHING_DEVICE = 2
    """(this, device id), per transaction: switching orders are approved or started on a
    device one after the other, so the second finds the first holding it (orders)."""
    SWITCH_REQUEST = 3
    """(this, hash of actor and request key), per transaction: a report sent twice at once
    is recorded once, the second finding the first (grid)."""
    REPORT_PHOTOS = 4
    """(this, report id), per transaction: a report's photos are added one after the other,
    so its count limit holds (media)."""
    INCIDENT_PHOTOS = 5
    """(this, incident id), per transaction: likewise the photos staff add to an incident."""
    ENGINE_REGION = 7301
    """(this, region number), per session: one prediction engine works a region."""
    BENCHMARK_DATABASE = 7302
    """(this, hash of its name), per session: one benchmark run uses a database at a time."""


PLANNER = 0x64697370617463
"""One key, per transaction: one dispatch planner plans at a time, across processes."""

METER_PINGS = 0x70696E6773
"""One key, per transaction: meters are asked one request after the other, each counting
the pings of the minute before it, so the head-end's rate holds (intake)."""

METER_PINGS_SEND = 0x70696E677353
"""One key, per transaction: one worker sends the pings' outbox at a time, so a request is
never sent twice at once nor split (intake)."""

GRID_IMPORT = 0x67726964696D70
"""One key, per transaction: imports of the network run one after the other, each
comparing the model with what the one before stored (grid)."""

INTERRUPTION_SPELLS = 0x7370656C6C73
"""One key, per transaction: customers' spells of interruption and the totals behind Major
Event Days have one writer at a time, the spells job or a rebuild (incidents).
Restorations never take it: they write their incident's records and name the customers
due, so they do not wait for one another."""
