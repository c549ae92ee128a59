"""Reading the stored interruptions: what a report counts in the database, and what it
counts itself.

The stored spells (`outage.incidents.recorded`) hold every finished interruption of an
outage; what they cannot hold yet (customers still out, planned outages, the momentary
interruptions meters told of) is derived for the report (`Unstored`). A customer with
any of those is counted here, from their stored records and the derived ones merged
again, and left out of what the database counts: customers counted apart add up.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import IntEnum

from sqlalchemy import text
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage.incidents.lifecycle import MOMENTARY_LIMIT
from outage.incidents.models import Interruption, InterruptionSpell
from outage.incidents.recorded import stored_records, stored_spells
from outage.reliability.indices import (
    MICROSECOND,
    InterruptionRecord,
    Totals,
    merge_overlaps,
)
from outage.reliability.meters import meter_momentaries
from outage.reliability.records import unstored_records


class Part(IntEnum):
    """The three sets of interruptions a report counts."""

    UNPLANNED = 0
    WITHOUT_MAJOR_EVENTS = 1
    PLANNED = 2


@dataclass(frozen=True)
class Scope:
    """The customers a report covers, as a condition on the spells' columns."""

    feeder_id: int | None = None
    substation_id: int | None = None

    def condition(self) -> str:
        if self.feeder_id is not None:
            return (
                " AND account IN (SELECT c.account FROM customers c JOIN premises p"
                " ON p.id = c.premise_id WHERE p.feeder_id = :feeder_id)"
            )
        if self.substation_id is not None:
            return " AND substation_id = :substation_id"
        return ""

    def params(self) -> dict[str, int]:
        if self.feeder_id is not None:
            return {"feeder_id": self.feeder_id}
        if self.substation_id is not None:
            return {"substation_id": self.substation_id}
        return {}


def zone_name(zone: tzinfo) -> str:
    """The zone as PostgreSQL names it: an IANA key, or UTC."""
    key = getattr(zone, "key", None)
    if isinstance(key, str):
        return key
    if zone.utcoffset(None) == timedelta(0):
        return "UTC"
    raise ValueError(f"a report's time zone must be an IANA zone, not {zone}")


@dataclass(frozen=True)
class Unstored:
    """The customers with interruptions not stored, counted by the report itself."""

    accounts: frozenset[str]
    spells: list[InterruptionRecord]
    """Their interruptions, stored and derived merged, begun in the window read."""
    stored: list[InterruptionRecord]
    """Their stored spells begun in the window read: what the database's totals hold."""


def unstored(
    session: Session,
    *,
    since: datetime,
    start: datetime,
    end: datetime,
    as_of: datetime,
    topology: Topology | None,
) -> Unstored:
    """Customers out under outages still on or planned ones in [since, end), or with a
    momentary interruption meters told of in [start, end), with their spells."""
    derived = unstored_records(
        session, start=since, end=end, as_of=as_of, topology=topology
    ) + meter_momentaries(session, start=start, end=end)
    accounts = frozenset(r.customer for r in derived)
    if not accounts:
        return Unstored(frozenset(), [], [])
    kept = stored_records(
        session,
        Interruption.account.in_(accounts),
        Interruption.end >= since,
        Interruption.incident_start < end,
    )
    stored = stored_spells(
        session,
        InterruptionSpell.account.in_(accounts),
        InterruptionSpell.start >= since,
        InterruptionSpell.start < end,
    )
    spells = [s for s in merge_overlaps(kept + derived) if since <= s.start < end]
    return Unstored(accounts, spells, stored)


def daily_us(session: Session, *, since: datetime, end: datetime, zone: tzinfo) -> dict[date, int]:
    """The system's unplanned sustained customer microseconds of the stored spells, by the
    local day they began in [since, end)."""
    rows = session.execute(
        text(
            "SELECT (began_at AT TIME ZONE :zone)::date, sum(customer_us)"
            " FROM interruption_totals WHERE began_at >= :since AND began_at < :end GROUP BY 1"
        ),
        {"zone": zone_name(zone), "since": since, "end": end},
    )
    return {day: int(us) for day, us in rows.tuples()}


def scope_daily(
    session: Session,
    *,
    scope: Scope,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    leave_out: Collection[str],
) -> dict[date, tuple[int, int]]:
    """The scope's unplanned sustained customer microseconds and interruptions of the
    stored spells, by the local day they began in [start, end)."""
    rows = session.execute(
        text(
            "SELECT (start AT TIME ZONE :zone)::date,"
            " sum((date_part('epoch', \"end\" - start) * 1000000)::bigint), count(*)"
            " FROM interruption_spells WHERE start >= :start AND start < :end"
            ' AND NOT planned AND "end" - start > :momentary'
            " AND account NOT IN (SELECT unnest(CAST(:leave_out AS text[])))"
            f"{scope.condition()} GROUP BY 1"
        ),
        {
            "zone": zone_name(zone),
            "start": start,
            "end": end,
            "momentary": MOMENTARY_LIMIT,
            "leave_out": sorted(leave_out),
            **scope.params(),
        },
    )
    return {day: (int(us), int(n)) for day, us, n in rows.tuples()}


_PARTS = {
    Part.UNPLANNED: "NOT planned",
    Part.WITHOUT_MAJOR_EVENTS: "NOT planned AND NOT major",
    Part.PLANNED: "planned",
}


def _totals_sql(scope: Scope, by_region: bool) -> str:
    """Per customer, then per window (and region); momentary events as the spells mark
    them (`InterruptionSpell.momentary_event`)."""
    per_customer = ", ".join(
        f"count(*) FILTER (WHERE {when} AND NOT momentary) AS n{p},"
        f" coalesce(sum(us) FILTER (WHERE {when} AND NOT momentary), 0) AS us{p},"
        f" coalesce(max(us) FILTER (WHERE {when} AND NOT momentary), 0) AS max{p},"
        f" count(*) FILTER (WHERE {when} AND momentary_event) AS me{p}"
        for p, when in _PARTS.items()
    )
    summed = ", ".join(
        f"sum(n{p}), sum(us{p}), count(*) FILTER (WHERE n{p} > 0), sum(me{p}),"
        f" count(*) FILTER (WHERE n{p} > :n), count(*) FILTER (WHERE max{p} > :t),"
        f" count(*) FILTER (WHERE us{p} > :t)"
        for p in _PARTS
    )
    region = "substation_id" if by_region else "NULL::integer"
    groups = "GROUPING SETS ((region, w), (w))" if by_region else "region, w"
    whole = "GROUPING(region) = 1" if by_region else "true"
    return (
        f"WITH s AS (SELECT account, {region} AS region, momentary_event,"
        " width_bucket(start, CAST(:bounds AS timestamptz[])) AS w,"
        " (date_part('epoch', \"end\" - start) * 1000000)::bigint AS us,"
        ' "end" - start <= :momentary AS momentary, planned,'
        " width_bucket(start, CAST(:major AS timestamptz[])) % 2 = 1 AS major"
        " FROM interruption_spells WHERE start >= :lo AND start < :hi"
        " AND account NOT IN (SELECT unnest(CAST(:leave_out AS text[])))"
        f"{scope.condition()}),"
        f" c AS (SELECT region, w, account, {per_customer} FROM s GROUP BY region, w, account)"
        f" SELECT {whole} AS whole, region, w, {summed} FROM c GROUP BY {groups}"
    )


def _edges(days: Collection[date], zone: tzinfo) -> list[datetime]:
    """Each day's start and end, in order: a start falls in one of the days when it falls
    after an odd number of edges (`width_bucket` over them is odd)."""
    edges: list[datetime] = []
    for day in sorted(days):
        edges += [
            datetime.combine(day, time(), zone),
            datetime.combine(day + timedelta(days=1), time(), zone),
        ]
    return edges or [datetime.max.replace(tzinfo=zone)]


Counted = Mapping[tuple[int | None, int], Sequence[Totals]]
"""(region or None for the whole scope, window) -> the totals of each `Part`."""


def stored_totals(
    session: Session,
    *,
    scope: Scope,
    bounds: Sequence[datetime],
    major_event_days: Collection[date],
    zone: tzinfo,
    n: int,
    celid_limit: timedelta,
    leave_out: Collection[str],
    by_region: bool = False,
) -> Counted:
    """The totals of the stored spells begun in each window [bounds[i], bounds[i + 1]),
    of the scope's customers but those `leave_out` names, for the scope (and each region,
    `by_region`)."""
    session.execute(text("SET LOCAL work_mem = '256MB'"))
    session.execute(text("SET LOCAL jit = off"))  # compiling costs more than it saves here
    rows = session.execute(
        text(_totals_sql(scope, by_region)),
        {
            "bounds": list(bounds),
            "lo": bounds[0],
            "hi": bounds[-1],
            "momentary": MOMENTARY_LIMIT,
            "zone": zone_name(zone),
            "major": _edges(major_event_days, zone),
            "leave_out": sorted(leave_out),
            "n": n,
            "t": celid_limit // MICROSECOND,
            **scope.params(),
        },
    )
    found: dict[tuple[int | None, int], list[Totals]] = {}
    for row in rows:
        whole, region, window, *figures = row
        parts = [
            Totals(
                customer_interruptions=int(figures[7 * p]),
                customer_us=int(figures[7 * p + 1]),
                customers_interrupted=int(figures[7 * p + 2]),
                momentary_events=int(figures[7 * p + 3]),
                over_n=int(figures[7 * p + 4]),
                single_over_t=int(figures[7 * p + 5]),
                total_over_t=int(figures[7 * p + 6]),
            )
            for p in _PARTS
        ]
        found[(None if whole else region, window - 1)] = parts
    return found
